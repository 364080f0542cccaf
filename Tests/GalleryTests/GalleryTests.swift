import XCTest
@testable import Gallery
