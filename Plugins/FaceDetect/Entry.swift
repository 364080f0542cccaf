import CNNRuntime
import PluginKit

@_cdecl("cnnpipe_plugin_entry")
public func cnnpipePluginEntry(_ hostABI: UInt32) -> UnsafeRawPointer? {
    PluginDescriptor.entry(hostABI, name: "faces", version: "0.1.0", stages: [FaceDetect.self],
                           onHost: { ThreadLender.current = ThreadLender(borrow: $0.borrowThreads, giveBack: $0.returnThreads) })
}
