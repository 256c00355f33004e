@testable import GtraceRecord
import Testing

struct DemanglerTests {
    @Test func cxxAndLegacyRustNamesAreDemangled() {
        var demangler = Demangler()
        #expect(demangler.demangle("_ZN4jobs5Queue4pushEi") == "jobs::Queue::push(int)")
        // Legacy Rust symbols are Itanium-mangled with a hash segment, which is dropped.
        #expect(demangler.demangle("_ZN4core3fmt5write17h0123456789abcdefE") == "core::fmt::write")
        #expect(demangler.demangle("worker_loop") == "worker_loop")
        #expect(demangler.demangle("_Znot_really") == "_Znot_really")
    }

    @Test func swiftNamesNeedSwiftDemangleOnThePath() {
        var demangler = Demangler()
        let name = "$s4main5QueueC4pushyySiF"
        if Demangler.findOnPath("swift-demangle") != nil {
            #expect(demangler.demangle(name) == "Queue.push(_:)")
        } else {
            #expect(demangler.demangle(name) == name)
        }
    }
}
