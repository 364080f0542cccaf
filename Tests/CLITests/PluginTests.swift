import Foundation
import FrameModel
import ImageIO
import XCTest

/// Plugin loading through the real loader: the Basics plugin, the sample C plugin built with cc
/// against the installed header only, and plugins that must be refused.
final class PluginTests: XCTestCase {
    func testStagesListsTheBasicsPlugin() throws {
        let r = try cnnpipe(["stages"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = String(decoding: r.stdout, as: UTF8.self)
        for stage in ["annotate", "blend", "crop", "grid", "passthrough", "resize", "rotate"] {
            XCTAssertTrue(out.contains(stage), "missing \(stage) in:\n\(out)")
        }
        let inspect = try cnnpipe(["inspect", "blend"])
        let text = String(decoding: inspect.stdout, as: UTF8.self)
        XCTAssertTrue(text.contains("inputs: base, top"), text)
        XCTAssertTrue(text.contains("opacity: float 0.0..1.0 = 0.5"), text)
    }

    func testSampleCPluginBuildsWithMakeAndRuns() throws {
        let dir = try TestEnv.tempDir()
        let make = try runProcess("/usr/bin/make", ["-s", "-C", TestEnv.root + "/samples/plugins", "CNNPIPE_INCLUDE=\(TestEnv.pluginHeaders)",
                                                    "libsepia.so"])
        XCTAssertEqual(make.status, 0, make.stderr)
        try FileManager.default.copyItem(atPath: TestEnv.root + "/samples/plugins/libsepia.so", toPath: dir + "/libsepia.so")
        let env = ["CNNPIPE_PLUGIN_PATH": dir]
        let stages = String(decoding: try cnnpipe(["stages"], environment: env).stdout, as: UTF8.self)
        XCTAssertTrue(stages.contains("sepia") && stages.contains("[sample-c]"), stages)

        // A blue-grey RGBA PNG goes in; the C stage only takes 8-bit RGB(A), so a 16-bit input is converted by the host.
        let image = Image(width: 8, height: 8, format: .rgba16,
                          bytes: (0..<64).flatMap { _ in [UInt16](arrayLiteral: 20000, 30000, 50000, 65535) }.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] })
        let r = try cnnpipe(["run", "-e", "sepia strength=1 | posterize levels=64", "--format", "png"],
                            stdin: Data(try Codec.encode(image, as: .png)), environment: env)
        XCTAssertEqual(r.status, 0, r.stderr)
        let out = try Codec.decode([UInt8](r.stdout)).image
        XCTAssertEqual(out.format, .rgba8)
        XCTAssertGreaterThan(out.bytes[0], out.bytes[2], "sepia should make red exceed blue")
        XCTAssertEqual(out.bytes[3], 255, "alpha kept")
    }

    func testPluginBuiltForAnotherABIIsRefusedByName() throws {
        let dir = try TestEnv.tempDir()
        try buildPlugin("""
        #include "cnnpipe_plugin.h"
        static const cp_plugin_desc d = {sizeof(cp_plugin_desc), 99u, "future", "9", 0, 0};
        CNNPIPE_EXPORT const cp_plugin_desc *cnnpipe_plugin_entry(uint32_t v) { (void)v; return &d; }
        """, name: "future", in: dir)
        try buildPlugin("""
        #include "cnnpipe_plugin.h"
        CNNPIPE_EXPORT const cp_plugin_desc *cnnpipe_plugin_entry(uint32_t v) { (void)v; return 0; }
        """, name: "picky", in: dir)
        let r = try cnnpipe(["stages"], environment: ["CNNPIPE_PLUGIN_PATH": dir])
        XCTAssertEqual(r.status, 0, "the good plugins still load")
        XCTAssertTrue(r.stderr.contains("\(dir)/libfuture.so: plugin built for ABI version 99"), r.stderr)
        XCTAssertTrue(r.stderr.contains("\(dir)/libpicky.so: plugin refused host ABI version 1"), r.stderr)
        XCTAssertTrue(String(decoding: r.stdout, as: UTF8.self).contains("resize"))
    }

    func testNotASharedObjectIsReportedAndIgnored() throws {
        let dir = try TestEnv.tempDir()
        try "garbage".write(toFile: dir + "/libbroken.so", atomically: true, encoding: .utf8)
        let r = try cnnpipe(["stages"], environment: ["CNNPIPE_PLUGIN_PATH": dir])
        XCTAssertEqual(r.status, 0)
        XCTAssertTrue(r.stderr.contains("libbroken.so: cannot load plugin"), r.stderr)
    }

    func testCurrentDirectoryIsNeverSearched() throws {
        let dir = try TestEnv.tempDir()
        try buildPlugin(try String(contentsOfFile: TestEnv.root + "/samples/plugins/sepia.c", encoding: .utf8),
                        name: "sepia", in: dir)
        let r = try runProcess(TestEnv.cnnpipe, ["stages"], cwd: dir)
        XCTAssertFalse(String(decoding: r.stdout, as: UTF8.self).contains("sepia"))
    }

    /// A C stage adds a face through the metadata JSON; the Basics annotate stage draws it.
    func testFaceMetadataCrossesTheABIAndAnnotateDrawsIt() throws {
        let dir = try TestEnv.tempDir()
        try buildPlugin("""
        #include "cnnpipe_plugin.h"
        #include <stdio.h>
        static void *create(const cp_stage_desc *s, const cp_host *h, const char *const *v, char *e, size_t n) {
            (void)s; (void)v; (void)e; (void)n; return (void *)h; }
        static void destroy(void *p) { (void)p; }
        static int32_t process(void *p, cp_call *call) {
            const cp_host *host = p;
            const cp_frame *in = call->inputs[0];
            cp_frame *out = host->frame_new(host->host_data, in->width, in->height, in->format, in);
            for (int32_t y = 0; y < in->height; y++)
                for (int64_t i = 0; i < in->stride; i++) out->pixels[y * out->stride + i] = in->pixels[y * in->stride + i];
            char json[512];
            snprintf(json, sizeof json, "{\\"faces\\":[{\\"box\\":{\\"x\\":10,\\"y\\":20,\\"width\\":30,\\"height\\":40},"
                     "\\"name\\":\\"ada\\",\\"distance\\":0.25}]}");
            if (host->frame_set_metadata(host->host_data, out, json) != 0) return -1;
            return call->emit(call->call_data, 0, out);
        }
        static const char *const pads[] = {"in"}, *const outs[] = {"out"};
        static const cp_stage_desc stages[] = {{sizeof(cp_stage_desc), "fake-detect", "adds one face", CP_STAGE_STATELESS,
            0, 0, 1, pads, 1, outs, create, process, 0, destroy, 0, 0, 0}};
        static const cp_plugin_desc d = {sizeof(cp_plugin_desc), CNNPIPE_ABI_VERSION, "fake", "1", 1, stages};
        CNNPIPE_EXPORT const cp_plugin_desc *cnnpipe_plugin_entry(uint32_t v) { return v == CNNPIPE_ABI_VERSION ? &d : 0; }
        """, name: "fake", in: dir)
        let gray = Image(width: 80, height: 80, format: .rgb8, bytes: [UInt8](repeating: 128, count: 80 * 80 * 3))
        let r = try cnnpipe(["run", "-e", "fake-detect | annotate color=#00ff00 thickness=2 labels=false", "--format", "png",
                             "--json"], stdin: Data(try Codec.encode(gray, as: .png)), environment: ["CNNPIPE_PLUGIN_PATH": dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("\"name\":\"ada\""), r.stderr)
        let out = try Codec.decode([UInt8](r.stdout)).image
        func pixel(_ x: Int, _ y: Int) -> [UInt8] { Array(out.bytes[(y * 80 + x) * 3..<(y * 80 + x) * 3 + 3]) }
        XCTAssertEqual(pixel(10, 40), [0, 255, 0], "left edge of the box")
        XCTAssertEqual(pixel(25, 20), [0, 255, 0], "top edge of the box")
        XCTAssertEqual(pixel(25, 40), [128, 128, 128], "inside the box untouched")
        XCTAssertEqual(pixel(5, 5), [128, 128, 128], "outside the box untouched")
    }

    /// An overlapping stateful stage: process() of the next image starts before the last one
    /// returns, await_turn keeps the part after it in stream order, and an input that fails
    /// before the stage (--keep-going) neither hangs the run nor breaks the order.
    func testOverlappingStageRunsImagesAtOnceButTakesTurnsInOrder() throws {
        let dir = try TestEnv.tempDir()
        try buildPlugin("""
        #include "cnnpipe_plugin.h"
        #include <pthread.h>
        #include <stddef.h>
        #include <stdio.h>
        #include <unistd.h>
        static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
        static int inside = 0, most_inside = 0;
        static long long last = -1;
        static void *create(const cp_stage_desc *s, const cp_host *h, const char *const *v, char *e, size_t n) {
            (void)s; (void)v; (void)e; (void)n; return (void *)h; }
        static void destroy(void *p) { (void)p; }
        static int32_t process(void *p, cp_call *call) {
            (void)p;
            if (call->struct_size < offsetof(cp_call, await_turn) + sizeof(void *) || !call->await_turn) {
                snprintf(call->error, call->error_capacity, "no await_turn"); return -1; }
            long long position = call->await_turn(call->call_data, 1 << 30);   /* no wait: the position */
            pthread_mutex_lock(&lock);
            if (++inside > most_inside) most_inside = inside;
            pthread_mutex_unlock(&lock);
            usleep(position % 2 == 0 ? 80000 : 5000);   /* the next image catches up */
            call->await_turn(call->call_data, 0);
            pthread_mutex_lock(&lock);
            inside--;
            int in_order = position > last;
            last = position;
            pthread_mutex_unlock(&lock);
            if (!in_order) { snprintf(call->error, call->error_capacity, "image %lld out of order", position); return -1; }
            return call->emit(call->call_data, 0, call->inputs[0]);
        }
        static int32_t finish(void *p, cp_call *call) {
            (void)p;
            if (most_inside < 2) { snprintf(call->error, call->error_capacity, "images never overlapped"); return -1; }
            return 0;
        }
        static const char *const pads[] = {"in"}, *const outs[] = {"out"};
        static const cp_stage_desc stages[] = {{sizeof(cp_stage_desc), "in-turn", "checks the order", CP_STAGE_OVERLAPPING,
            0, 0, 1, pads, 1, outs, create, process, finish, destroy, 0, 0, 0}};
        static const cp_plugin_desc d = {sizeof(cp_plugin_desc), CNNPIPE_ABI_VERSION, "turns", "1", 1, stages};
        CNNPIPE_EXPORT const cp_plugin_desc *cnnpipe_plugin_entry(uint32_t v) { return v == CNNPIPE_ABI_VERSION ? &d : 0; }
        """, name: "turns", in: dir)
        let inputs = try TestEnv.tempDir()
        let gray = try Codec.encode(Image(width: 16, height: 16, format: .rgb8, bytes: [UInt8](repeating: 90, count: 16 * 16 * 3)), as: .png)
        for k in 0..<8 { try Data(gray).write(to: URL(fileURLWithPath: inputs + "/frame\(k).png")) }
        try Data("not a png".utf8).write(to: URL(fileURLWithPath: inputs + "/frame3.png"))
        let out = try TestEnv.tempDir()
        let r = try XCTUnwrap(try cnnpipeWithin(60, ["run", "-e", "in-turn", "--threads", "2", "--keep-going", inputs, "-o", out + "/"],
                                                environment: ["CNNPIPE_PLUGIN_PATH": dir]), "the run hung")
        XCTAssertEqual(r.status, 1, r.stderr)
        XCTAssertTrue(r.stderr.contains("frame3.png"), r.stderr)
        XCTAssertFalse(r.stderr.contains("order") || r.stderr.contains("overlapped"), r.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).count, 7)
    }
}
