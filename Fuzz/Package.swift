// swift-tools-version:6.0
import PackageDescription

// libFuzzer targets (OSS-Fuzz style) over cnnpipe's parsers, decoders and model preparation.
// Built only by scripts/fuzz.sh with `--sanitize=fuzzer --sanitize=address`; the main package never
// builds this one. Each target defines LLVMFuzzerTestOneInput (libFuzzer supplies main).
let fuzzTargets = ["stream-splitter", "decode-jpeg", "decode-png", "decode-webp", "xmp-regions", "preset",
                   "onnx", "dlib-network", "dlib-shape-predictor", "gallery-json", "plugin-descriptor"]

let package = Package(
    name: "cnnpipe-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "cnnpipe", path: "..")],
    targets: [
        .target(name: "FuzzSupport", dependencies: [.product(name: "CNNPipeCore", package: "cnnpipe")],
                path: "Sources/FuzzSupport"),
    ] + fuzzTargets.map { name in
        .executableTarget(name: name, dependencies: ["FuzzSupport", .product(name: "CNNPipeCore", package: "cnnpipe"),
                                                     .product(name: "Basics", package: "cnnpipe")],
                          path: "Sources/\(name)",
                          // No Swift main: libFuzzer's main drives LLVMFuzzerTestOneInput.
                          swiftSettings: [.unsafeFlags(["-parse-as-library"])])
    },
    swiftLanguageModes: [.v5]
)
