// swift-tools-version:6.0
import PackageDescription

// Release builds: hot loops must be vectorised by the compiler, so bounds checks are kept
// out of the pixel paths with -Ounchecked only where we say so (per target below).
let fast: [SwiftSetting] = [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
// Debug builds (the test suite) still optimise the numeric core: the parity tests run whole
// networks over the corpus, ~20x slower unoptimised. Bounds checks stay on there (-O).
// An installed prefix carries the Swift runtime libraries in lib/cnnpipe/swift (scripts/install.sh), so it
// runs without the toolchain: the binary (bin/) and the plugins (lib/cnnpipe/plugins/) look there after it.
let binaryRuntime: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "-rpath", "-Xlinker", "$ORIGIN/../lib/cnnpipe/swift"])]
let pluginRuntime: [LinkerSetting] = [.unsafeFlags(["-Xlinker", "-rpath", "-Xlinker", "$ORIGIN/../swift"])]
let numeric: [SwiftSetting] = fast + [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "cnnpipe",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "cnnpipe", targets: ["cnnpipe"]),
        // Benchmarks of the libraries (benchmarks/*.sh), kept out of the user-facing command.
        .executable(name: "cnnpipe-bench", targets: ["cnnpipe-bench"]),
        // Plugins are real shared objects loaded with dlopen; the host never links them.
        .library(name: "Basics", type: .dynamic, targets: ["Basics"]),
        .library(name: "Stylize", type: .dynamic, targets: ["Stylize"]),
        .library(name: "FaceDetect", type: .dynamic, targets: ["FaceDetect"]),
        .library(name: "Identify", type: .dynamic, targets: ["Identify"]),
        .library(name: "VisualizeActivations", type: .dynamic, targets: ["VisualizeActivations"]),
        // The parsers and the runtime as a library for the fuzz targets in Fuzz/ (a separate package).
        .library(name: "CNNPipeCore", targets: ["ImageIO", "FilterKit", "CNNRuntime", "Gallery"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", exact: "6.2.2"),
        .package(url: "https://github.com/apple/swift-protobuf", exact: "1.39.0"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-crypto", exact: "3.12.3"),
    ],
    targets: [
        // C plugin ABI: the only thing host and plugins share.
        .target(name: "CNNPipeABI", path: "Sources/CNNPipeABI"),

        // System libraries (Debian -dev packages, found with pkg-config).
        .systemLibrary(name: "CJPEG", path: "Sources/CJPEG", pkgConfig: "libjpeg",
                       providers: [.apt(["libjpeg62-turbo-dev"])]),
        .systemLibrary(name: "CPNG", path: "Sources/CPNG", pkgConfig: "libpng",
                       providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CWebP", path: "Sources/CWebP", pkgConfig: "libwebp",
                       providers: [.apt(["libwebp-dev"])]),
        .systemLibrary(name: "COpenBLAS", path: "Sources/COpenBLAS",
                       providers: [.apt(["libopenblas-dev"])]),
        // oneDNN: only its header is used at build time; the library is loaded with dlopen (optional at run time).
        .systemLibrary(name: "CDNNL", path: "Sources/CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(name: "CFreeType", path: "Sources/CFreeType", pkgConfig: "freetype2",
                       providers: [.apt(["libfreetype-dev"])]),

        // setjmp/longjmp error handling around libjpeg/libpng, plus WebP mux/demux glue.
        .target(name: "CodecShims", dependencies: ["CJPEG", "CPNG", "CWebP"], path: "Sources/CodecShims",
                linkerSettings: [.linkedLibrary("jpeg"), .linkedLibrary("png16"), .linkedLibrary("webp"),
                                 .linkedLibrary("webpmux"), .linkedLibrary("webpdemux"), .linkedLibrary("z")]),

        .target(name: "FrameModel", path: "Sources/FrameModel", swiftSettings: numeric),
        .target(name: "ImageIO", dependencies: ["FrameModel", "CodecShims"], path: "Sources/ImageIO",
                swiftSettings: fast),
        .target(name: "PluginKit", dependencies: ["CNNPipeABI", "FrameModel"], path: "Sources/PluginKit",
                swiftSettings: fast),
        .target(name: "FilterKit",
                dependencies: ["CNNPipeABI", "FrameModel", "ImageIO", .product(name: "Yams", package: "Yams")],
                path: "Sources/FilterKit", swiftSettings: fast),
        // Direct convolution kernels in C with AVX-512 / AVX2 intrinsics, chosen at run time; optimised in
        // debug builds too, since the tests run real models through them.
        .target(name: "CConvKernels", path: "Sources/CConvKernels", cSettings: [.unsafeFlags(["-O3"])]),
        // The CNN runtime: graph IR, ONNX import, kernels (sgemm through OpenBLAS, convolutions through oneDNN when present), executor.
        .target(name: "CNNRuntime",
                dependencies: ["COpenBLAS", "CDNNL", "CConvKernels", .product(name: "SwiftProtobuf", package: "swift-protobuf")],
                path: "Sources/CNNRuntime", swiftSettings: numeric),
        // Faces on CNNRuntime: dlib's MMOD detector (tiled pyramid, NMS), landmarks, alignment.
        .target(name: "FaceKit", dependencies: ["CNNRuntime", "FrameModel"], path: "Sources/FaceKit", swiftSettings: numeric),
        // Metric learning on face embeddings: the learned head (a map and/or a verifier) and its training
        // (triplet loss, logistic verifier, early stopping) on CNNRuntime's gradients. Knows nothing of storage.
        .target(name: "MetricLearning", dependencies: ["CNNRuntime"], path: "Sources/MetricLearning", swiftSettings: fast),
        // Face galleries: people, their embeddings and the learned head in SQLite (GRDB), nearest-person search via BLAS.
        .target(name: "Gallery", dependencies: ["FaceKit", "MetricLearning", .product(name: "GRDB", package: "GRDB.swift")],
                path: "Sources/Gallery", swiftSettings: fast),
        // SHA-256 of model files (a gallery's model identity), through swift-crypto.
        .target(name: "FileHashing", dependencies: [.product(name: "Crypto", package: "swift-crypto")],
                path: "Sources/FileHashing"),
        .executableTarget(name: "cnnpipe",
                          dependencies: ["FilterKit", "ImageIO", "CNNRuntime", "FaceKit", "Gallery", "MetricLearning",
                                         "FileHashing", "Drawing",
                                         .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Sources/cnnpipe", linkerSettings: binaryRuntime),
        .executableTarget(name: "cnnpipe-bench",
                          dependencies: ["CNNRuntime", "Gallery", "FaceKit", .product(name: "ArgumentParser", package: "swift-argument-parser")],
                          path: "Sources/cnnpipe-bench"),

        // Boxes, text (FreeType) and face overlays on FloatImage, for the plugins that draw.
        .target(name: "Drawing", dependencies: ["FrameModel", "CFreeType"], path: "Sources/Drawing", swiftSettings: fast),

        .target(name: "Basics", dependencies: ["PluginKit", "Drawing"], path: "Plugins/Basics",
                swiftSettings: fast, linkerSettings: pluginRuntime),

        // Style transfer by optimisation (Gatys et al.) on CNNRuntime's gradients.
        .target(name: "StyleTransfer", dependencies: ["CNNRuntime", "FrameModel"], path: "Sources/StyleTransfer",
                swiftSettings: numeric),
        .target(name: "Stylize", dependencies: ["PluginKit", "CNNRuntime", "ImageIO", "StyleTransfer"], path: "Plugins/Stylize",
                swiftSettings: fast, linkerSettings: pluginRuntime),

        .target(name: "FaceDetect", dependencies: ["PluginKit", "FaceKit", "Drawing"], path: "Plugins/FaceDetect",
                swiftSettings: fast, linkerSettings: pluginRuntime),

        .target(name: "Identify", dependencies: ["PluginKit", "FaceKit", "Gallery", "FileHashing"], path: "Plugins/Identify",
                swiftSettings: fast, linkerSettings: pluginRuntime),

        // Activations of any layer: feature-map grids, heat maps, top patches per unit (receptive fields).
        .target(name: "ActivationKit", dependencies: ["CNNRuntime", "Drawing"], path: "Sources/ActivationKit",
                swiftSettings: fast),
        .target(name: "VisualizeActivations", dependencies: ["PluginKit", "ActivationKit"],
                path: "Plugins/VisualizeActivations", swiftSettings: fast, linkerSettings: pluginRuntime),

        .testTarget(name: "ImageIOTests", dependencies: ["ImageIO"], path: "Tests/ImageIOTests"),
        .testTarget(name: "FilterKitTests", dependencies: ["FilterKit", "ImageIO"], path: "Tests/FilterKitTests"),
        .testTarget(name: "CLITests", dependencies: ["ImageIO", "CNNRuntime"], path: "Tests/CLITests"),
        .testTarget(name: "CNNRuntimeTests", dependencies: ["CNNRuntime", "CConvKernels"], path: "Tests/CNNRuntimeTests"),
        .testTarget(name: "FaceKitTests", dependencies: ["FaceKit", "ImageIO"], path: "Tests/FaceKitTests",
                    exclude: ["Reference"]),
        .testTarget(name: "GalleryTests", dependencies: ["Gallery", "MetricLearning"], path: "Tests/GalleryTests"),
        .testTarget(name: "FileHashingTests", dependencies: ["FileHashing"], path: "Tests/FileHashingTests"),
        .testTarget(name: "StyleTransferTests", dependencies: ["StyleTransfer", "ImageIO"], path: "Tests/StyleTransferTests"),
        .testTarget(name: "ActivationKitTests", dependencies: ["ActivationKit"], path: "Tests/ActivationKitTests"),
    ],
    // Threads here are pthreads with explicit locks; Swift 5 mode keeps C globals (stderr) usable.
    swiftLanguageModes: [.v5]
)
