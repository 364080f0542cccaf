import CConvKernels
import Foundation

/// Keeps freed tensor-sized blocks in the process heap. glibc returns large freed blocks to the kernel
/// (mmap'd ones at once, the heap's top past a trim threshold of twice the largest block seen), so the
/// next run's 8-bit maps and kernel scratch arrays fault their pages in again, zeroed: arbitrary_transform
/// took ~1,100 page faults per inference (0 after this). Blocks up to 32 MB now come from the heap and
/// up to 128 MB of free heap is kept per malloc arena (glibc trims each arena on its own); bigger blocks
/// (whole 50 MP photos) are still mapped and returned. Process-wide, done once by the first session.
enum HeapReuse {
    static let configured: Bool = !userHasMallocSettings && cp_keep_freed_blocks(32 << 20, 128 << 20) == 1

    /// The user's own malloc settings win: GLIBC_TUNABLES with malloc entries, or any MALLOC_* variable.
    static var userHasMallocSettings: Bool {
        let environment = ProcessInfo.processInfo.environment
        return environment["GLIBC_TUNABLES"]?.contains("malloc") == true || environment.keys.contains { $0.hasPrefix("MALLOC_") }
    }
}
