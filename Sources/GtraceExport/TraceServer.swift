import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.0 server for `gtrace view`: bound to 127.0.0.1 only, it
/// serves one JSON file under one name (and, offline, the files of a local
/// Perfetto UI), with the CORS header the Perfetto UI needs to fetch a trace
/// from 127.0.0.1:9001. One request at a time; every reply closes the connection.
public final class TraceServer {
    public enum Failure: Error, CustomStringConvertible {
        case bind(port: UInt16, reason: String)
        public var description: String {
            switch self {
            case let .bind(port, reason): return "cannot listen on 127.0.0.1:\(port): \(reason)"
            }
        }
    }

    private let listener: Int32
    public let port: UInt16
    private let jsonName: String
    private let jsonPath: String
    private let uiDirectory: String?

    /// Listens on 127.0.0.1:`port` (0: any free port).
    public init(port: UInt16, jsonName: String, jsonPath: String, uiDirectory: String?) throws {
        self.jsonName = jsonName
        self.jsonPath = jsonPath
        self.uiDirectory = uiDirectory.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw Failure.bind(port: port, reason: String(cString: strerror(errno))) }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian  // 127.0.0.1: never another interface
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw Failure.bind(port: port, reason: reason)
        }
        var actual = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &actual) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        self.port = UInt16(bigEndian: actual.sin_port)
    }

    deinit { close(listener) }

    /// Serves until `shouldStop()` says so (checked between connections and every 200 ms).
    public func serve(until shouldStop: () -> Bool) {
        while !shouldStop() {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 200)
            if ready <= 0 { continue }
            let client = accept(listener, nil, nil)
            if client < 0 { continue }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            handle(client)
            close(client)
        }
    }

    private func handle(_ client: Int32) {
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while request.count < 65536 {
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if n <= 0 { break }
            request += chunk[0..<n]
            if request.count >= 4, request.suffix(4) == [13, 10, 13, 10] { break }
        }
        let line = String(decoding: request.prefix { $0 != 13 && $0 != 10 }, as: UTF8.self).split(separator: " ")
        guard line.count >= 2 else { return reply(client, status: "400 Bad Request", type: "text/plain", body: Array("bad request\n".utf8)) }
        let method = String(line[0])
        let path = String(String(line[1]).split(separator: "?", maxSplits: 1).first ?? "")
        if method == "OPTIONS" { return reply(client, status: "204 No Content", type: "text/plain", body: []) }
        guard method == "GET" || method == "HEAD" else {
            return reply(client, status: "405 Method Not Allowed", type: "text/plain", body: Array("only GET\n".utf8))
        }
        if path == "/" + jsonName {
            return sendFile(client, path: jsonPath, type: "application/json", head: method == "HEAD")
        }
        if let file = uiFile(for: path) {
            return sendFile(client, path: file, type: Self.contentType(file), head: method == "HEAD")
        }
        reply(client, status: "404 Not Found", type: "text/plain", body: Array("not found\n".utf8))
    }

    /// A file of the local UI for a request path, never outside its directory.
    private func uiFile(for path: String) -> String? {
        guard let root = uiDirectory, !path.contains(".."), !path.contains("\0") else { return nil }
        let relative = path == "/" ? "/index.html" : path
        let candidate = URL(fileURLWithPath: root + relative).standardizedFileURL.path
        guard candidate.hasPrefix(root + "/") else { return nil }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue else { return nil }
        return candidate
    }

    static func contentType(_ path: String) -> String {
        switch URL(fileURLWithPath: path).pathExtension {
        case "html": return "text/html; charset=utf-8"
        case "js": return "text/javascript"
        case "css": return "text/css"
        case "json": return "application/json"
        case "wasm": return "application/wasm"
        case "png": return "image/png"
        case "svg": return "image/svg+xml"
        case "woff2": return "font/woff2"
        default: return "application/octet-stream"
        }
    }

    private func header(status: String, type: String, length: Int) -> [UInt8] {
        Array(("HTTP/1.0 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(length)\r\n"
            + "Access-Control-Allow-Origin: *\r\nAccess-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
            + "Access-Control-Allow-Headers: *\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n").utf8)
    }

    private func reply(_ client: Int32, status: String, type: String, body: [UInt8]) {
        sendAll(client, header(status: status, type: type, length: body.count) + body)
    }

    private func sendFile(_ client: Int32, path: String, type: String, head: Bool) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return reply(client, status: "404 Not Found", type: "text/plain", body: Array("not found\n".utf8)) }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        sendAll(client, header(status: "200 OK", type: type, length: Int(info.st_size)))
        if head { return }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { break }
            if !sendAll(client, Array(buffer[0..<n])) { break }
        }
    }

    @discardableResult
    private func sendAll(_ client: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { send(client, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            offset += n
        }
        return true
    }
}
