import PluginKit

@_cdecl("cnnpipe_plugin_entry")
public func cnnpipePluginEntry(_ hostABI: UInt32) -> UnsafeRawPointer? {
    PluginDescriptor.entry(hostABI, name: "basics", version: "1.0.0", stages: [
        Passthrough.self, Resize.self, Crop.self, Rotate.self, Blend.self, Grid.self, Annotate.self,
        Posterize.self,
    ])
}
