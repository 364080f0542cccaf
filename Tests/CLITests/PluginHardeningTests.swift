import Foundation
import XCTest

/// Hostile plugin folders and descriptors (issue 15): refused by name, never a crash or a hang,
/// never code run from the current directory.
final class PluginHardeningTests: XCTestCase {
    func testHugeStageCountWithoutATableIsRefused() throws {
        let dir = try TestEnv.tempDir()
        try buildPlugin("""
        #include "cnnpipe_plugin.h"
        static const cp_plugin_desc d = {sizeof(cp_plugin_desc), CNNPIPE_ABI_VERSION, "liar", "1", 100000000u, 0};
        CNNPIPE_EXPORT const cp_plugin_desc *cnnpipe_plugin_entry(uint32_t v) { (void)v; return &d; }
        """, name: "liar", in: dir)
        let r = try XCTUnwrap(try cnnpipeWithin(30, ["stages"], environment: ["CNNPIPE_PLUGIN_PATH": dir]))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("libliar.so: plugin declares 100000000 stages"), r.stderr)
        XCTAssertTrue(String(decoding: r.stdout, as: UTF8.self).contains("resize"))
    }

    func testTableCountsAndStringsInAStageAreChecked() throws {
        let dir = try TestEnv.tempDir()
        try buildPlugin("""
        #include "cnnpipe_plugin.h"
        #include <string.h>
        static void *create(const cp_stage_desc *s, const cp_host *h, const char *const *v, char *e, size_t n) { return (void *)1; }
        static int32_t process(void *i, cp_call *c) { return 0; }
        static void destroy(void *i) {}
        static char long_name[10000];
        static cp_stage_desc stages[2];
        static cp_plugin_desc d = {sizeof(cp_plugin_desc), CNNPIPE_ABI_VERSION, "odd", "1", 1, stages};
        CNNPIPE_EXPORT const cp_plugin_desc *cnnpipe_plugin_entry(uint32_t v) {
            stages[0].struct_size = sizeof(cp_stage_desc);
            stages[0].name = "odd";
            stages[0].n_params = 70000;       /* no table */
            stages[0].create = create; stages[0].process = process; stages[0].destroy = destroy;
            if (getenv("ODD_LONG")) { memset(long_name, 'a', sizeof long_name); stages[0].name = long_name; stages[0].n_params = 0; }
            return &d;
        }
        """.replacingOccurrences(of: "#include <string.h>", with: "#include <string.h>\n#include <stdlib.h>"), name: "odd", in: dir)
        var r = try XCTUnwrap(try cnnpipeWithin(30, ["stages"], environment: ["CNNPIPE_PLUGIN_PATH": dir]))
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("libodd.so: stage odd declares 70000 parameters"), r.stderr)
        r = try XCTUnwrap(try cnnpipeWithin(30, ["stages"], environment: ["CNNPIPE_PLUGIN_PATH": dir, "ODD_LONG": "1"]))
        XCTAssertTrue(r.stderr.contains("libodd.so: a stage name is longer than 4096 bytes"), r.stderr)
    }

    func testATooSmallDescriptorSaysSo() throws {
        let dir = try TestEnv.tempDir()
        try buildPlugin("""
        #include "cnnpipe_plugin.h"
        static const cp_plugin_desc d = {8, CNNPIPE_ABI_VERSION, "small", "1", 0, 0};
        CNNPIPE_EXPORT const cp_plugin_desc *cnnpipe_plugin_entry(uint32_t v) { (void)v; return &d; }
        """, name: "small", in: dir)
        let r = try cnnpipe(["stages"], environment: ["CNNPIPE_PLUGIN_PATH": dir])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("libsmall.so: plugin descriptor is 8 bytes, smaller than"), r.stderr)
        XCTAssertFalse(r.stderr.contains("built for ABI version 1, this cnnpipe speaks 1"), r.stderr)
    }

    func testAFIFONamedLikeAPluginIsSkipped() throws {
        let dir = try TestEnv.tempDir()
        XCTAssertEqual(mkfifo(dir + "/x.so", 0o644), 0)
        let r = try XCTUnwrap(try cnnpipeWithin(30, ["stages"], environment: ["CNNPIPE_PLUGIN_PATH": dir]), "cnnpipe stages hung on a FIFO")
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(String(decoding: r.stdout, as: UTF8.self).contains("resize"))
    }

    func testRelativePluginPathEntriesAreIgnoredWithAWarning() throws {
        let dir = try TestEnv.tempDir()
        try FileManager.default.createDirectory(atPath: dir + "/plugdir", withIntermediateDirectories: true)
        for folder in [dir, dir + "/plugdir"] {
            try buildPlugin("""
            #include "cnnpipe_plugin.h"
            #include <fcntl.h>
            #include <unistd.h>
            __attribute__((constructor)) static void ran(void) { int f = open("constructor-ran", O_CREAT | O_WRONLY, 0644); if (f >= 0) close(f); }
            CNNPIPE_EXPORT const cp_plugin_desc *cnnpipe_plugin_entry(uint32_t v) { (void)v; return 0; }
            """, name: "evil", in: folder)
        }
        for entry in [".", "plugdir", "./plugdir"] {
            let r = try runProcess(TestEnv.cnnpipe, ["stages"], environment: ["CNNPIPE_PLUGIN_PATH": entry], cwd: dir)
            XCTAssertEqual(r.status, 0, r.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/constructor-ran"), "a plugin from '\(entry)' was loaded")
            XCTAssertTrue(r.stderr.contains("plugin folder '\(entry)' is relative"), r.stderr)
        }
    }
}
