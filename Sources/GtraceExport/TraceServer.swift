import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A tiny HTTP/1.0 server for `gtrace view`, bound to 127.0.0.1 only. It
/// serves one trace file (any format: the caller gives its descriptor, name
/// and content type) under an unguessable path `/<token>/<name>`, and,
/// offline, the files of a local Perfetto UI.
///
/// What a local user or a web page cannot do (docs/RECORDING.md, "view"):
/// - read the trace from another web page: only the Perfetto UI's origin
///   and the server's own origin get CORS headers; any other `Origin` is refused;
/// - reach it by DNS rebinding: the `Host` header must be 127.0.0.1:port or localhost:port;
/// - guess its URL: the path holds 128 random bits;
/// - stall it: every connection has its own thread (at most `maxConnections`)
///   and a deadline to send its request (`requestDeadline`) and to take each
///   piece of the reply (`sendTimeout`).
public final class TraceServer: @unchecked Sendable {
    public enum Failure: Error, CustomStringConvertible {
        case bind(port: UInt16, reason: String)
        public var description: String {
            switch self {
            case let .bind(port, reason): return "cannot listen on 127.0.0.1:\(port): \(reason)"
            }
        }
    }

    /// The origin of the Perfetto UI on the web, the only foreign origin served.
    public static let perfettoOrigin = "https://ui.perfetto.dev"
    static let maxConnections = 32
    static let maxRequestBytes = 16384

    private let listener: Int32
    public let port: UInt16
    /// 32 hex digits (128 bits from the system's random source), the first path component of the trace's URL.
    public let token: String
    private let traceName: String
    private let traceDescriptor: Int32
    private let traceType: String
    private let uiDirectory: String?
    private let requestDeadline: Double
    private let sendTimeout: Int
    private let active = NSLock()
    private var activeConnections = 0

    /// The path of the trace on this server: `/<token>/<name>`.
    public var tracePath: String { "/\(token)/\(traceName)" }
    /// The trace's full URL.
    public var traceURL: String { "http://127.0.0.1:\(port)\(tracePath)" }

    /// Listens on 127.0.0.1:`port` (0: any free port). `traceDescriptor` stays
    /// owned by the caller; it is read with `pread`, so it may be an unlinked file.
    public init(port: UInt16, traceName: String, traceDescriptor: Int32, traceType: String, uiDirectory: String?,
                requestDeadline: Double = 10, sendTimeout: Int = 10) throws {
        self.traceName = traceName
        self.traceDescriptor = traceDescriptor
        self.traceType = traceType
        self.uiDirectory = uiDirectory.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        self.requestDeadline = requestDeadline
        self.sendTimeout = sendTimeout
        var generator = SystemRandomNumberGenerator()  // getrandom(2)
        token = (0..<2).map { _ in
            let value = generator.next() as UInt64
            let hex = String(value, radix: 16)
            return String(repeating: "0", count: 16 - hex.count) + hex
        }.joined()
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
        guard bound == 0, listen(fd, 64) == 0 else {
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

    /// Serves until `shouldStop()` says so (checked every 200 ms). Each
    /// connection runs on its own thread; beyond `maxConnections` at once, a
    /// new one gets "503" at once.
    public func serve(until shouldStop: () -> Bool) {
        while !shouldStop() {
            var poller = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 200)
            if ready <= 0 { continue }
            let client = accept(listener, nil, nil)
            if client < 0 { continue }
            _ = fcntl(client, F_SETFD, FD_CLOEXEC)
            active.lock()
            let admitted = activeConnections < Self.maxConnections
            if admitted { activeConnections += 1 }
            active.unlock()
            guard admitted else {
                setTimeouts(client, receive: 0, send: 1)
                reply(client, status: "503 Service Unavailable", type: "text/plain", body: Array("busy\n".utf8), allowOrigin: nil)
                close(client)
                continue
            }
            let thread = Thread { [self] in
                handle(client)
                close(client)
                active.lock()
                activeConnections -= 1
                active.unlock()
            }
            thread.stackSize = 256 << 10
            thread.start()
        }
    }

    private func setTimeouts(_ client: Int32, receive: Double, send: Int) {
        var receiveTimeout = timeval(tv_sec: Int(receive), tv_usec: Int((receive - receive.rounded(.down)) * 1e6))
        if receive > 0 { setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &receiveTimeout, socklen_t(MemoryLayout<timeval>.size)) }
        var sendTimeout = timeval(tv_sec: send, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Reads the request head (up to the empty line) within `requestDeadline`; nil if the client is too slow or sends too much.
    private func readHead(_ client: Int32) -> [UInt8]? {
        let deadline = Self.now() + requestDeadline
        var request: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while request.count < Self.maxRequestBytes {
            let left = deadline - Self.now()
            if left <= 0 { return nil }
            var poller = pollfd(fd: client, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, Int32(max(1, min(left * 1000, 1000))))
            if ready < 0 && errno == EINTR { continue }
            if ready <= 0 { continue }
            let n = chunk.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
            if n <= 0 { return request.isEmpty ? nil : request }
            let searchFrom = max(0, request.count - 3)
            request += chunk[0..<n]
            if Self.headEnd(request, from: searchFrom) != nil { return request }
        }
        return nil
    }

    static func headEnd(_ bytes: [UInt8], from start: Int) -> Int? {
        var i = start
        while i + 3 < bytes.count {
            if bytes[i] == 13, bytes[i + 1] == 10, bytes[i + 2] == 13, bytes[i + 3] == 10 { return i }
            i += 1
        }
        return nil
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    /// A parsed request head: method, path, and headers by lower-case name.
    struct Request {
        var method: String
        var path: String
        var headers: [String: String]

        init?(_ bytes: [UInt8]) {
            let end = TraceServer.headEnd(bytes, from: 0) ?? bytes.count
            let text = String(decoding: bytes[0..<end], as: UTF8.self)
            var lines = text.split(separator: "\r\n", omittingEmptySubsequences: false).map(String.init)
            guard !lines.isEmpty else { return nil }
            let first = lines.removeFirst().split(separator: " ")
            guard first.count >= 2 else { return nil }
            method = String(first[0])
            path = String(String(first[1]).split(separator: "?", maxSplits: 1).first ?? "")
            headers = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
                let value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
                if headers[name] != nil { headers[name] = "\u{0}duplicate" } else { headers[name] = value }
            }
        }
    }

    /// The origins whose pages may read the trace: the Perfetto UI, and this server's own.
    func allowedOrigins() -> Set<String> {
        [Self.perfettoOrigin, "http://127.0.0.1:\(port)", "http://localhost:\(port)"]
    }

    /// Only the names under which this server is reached directly: DNS rebinding gives another name.
    func allowedHost(_ host: String?) -> Bool {
        guard let host = host?.lowercased() else { return false }
        return host == "127.0.0.1:\(port)" || host == "localhost:\(port)"
    }

    private func handle(_ client: Int32) {
        setTimeouts(client, receive: requestDeadline, send: sendTimeout)
        guard let head = readHead(client) else { return }
        guard let request = Request(head) else {
            return reply(client, status: "400 Bad Request", type: "text/plain", body: Array("bad request\n".utf8), allowOrigin: nil)
        }
        guard allowedHost(request.headers["host"]) else {
            return reply(client, status: "421 Misdirected Request", type: "text/plain", body: Array("wrong host\n".utf8), allowOrigin: nil)
        }
        var allowOrigin: String?
        if let origin = request.headers["origin"] {
            guard allowedOrigins().contains(origin) else {
                return reply(client, status: "403 Forbidden", type: "text/plain", body: Array("origin not allowed\n".utf8), allowOrigin: nil)
            }
            allowOrigin = origin
        }
        if request.method == "OPTIONS" {
            return reply(client, status: "204 No Content", type: "text/plain", body: [], allowOrigin: allowOrigin,
                         privateNetwork: request.headers["access-control-request-private-network"] == "true")
        }
        guard request.method == "GET" || request.method == "HEAD" else {
            return reply(client, status: "405 Method Not Allowed", type: "text/plain", body: Array("only GET\n".utf8), allowOrigin: allowOrigin)
        }
        let headOnly = request.method == "HEAD"
        if request.path == tracePath {
            return sendFile(client, descriptor: traceDescriptor, type: traceType, head: headOnly, allowOrigin: allowOrigin)
        }
        if let file = uiFile(for: request.path) {
            let fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
            if fd >= 0 {
                defer { close(fd) }
                return sendFile(client, descriptor: fd, type: Self.contentType(file), head: headOnly, allowOrigin: allowOrigin)
            }
        }
        reply(client, status: "404 Not Found", type: "text/plain", body: Array("not found\n".utf8), allowOrigin: allowOrigin)
    }

    /// A file of the local UI for a request path, never outside its directory.
    private func uiFile(for path: String) -> String? {
        guard let root = uiDirectory, !path.contains(".."), !path.contains("\0"), !path.contains("%") else { return nil }
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

    private func header(status: String, type: String, length: Int, allowOrigin: String?, privateNetwork: Bool = false) -> [UInt8] {
        var text = "HTTP/1.0 \(status)\r\nContent-Type: \(type)\r\nContent-Length: \(length)\r\n"
        if let allowOrigin {
            text += "Access-Control-Allow-Origin: \(allowOrigin)\r\nAccess-Control-Allow-Methods: GET, HEAD, OPTIONS\r\n"
                + "Access-Control-Allow-Headers: Range, Content-Type\r\n"
            if privateNetwork { text += "Access-Control-Allow-Private-Network: true\r\n" }
        }
        text += "Vary: Origin\r\nX-Content-Type-Options: nosniff\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n"
        return Array(text.utf8)
    }

    private func reply(_ client: Int32, status: String, type: String, body: [UInt8], allowOrigin: String?, privateNetwork: Bool = false) {
        sendAll(client, header(status: status, type: type, length: body.count, allowOrigin: allowOrigin, privateNetwork: privateNetwork) + body)
    }

    private func sendFile(_ client: Int32, descriptor fd: Int32, type: String, head: Bool, allowOrigin: String?) {
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            return reply(client, status: "404 Not Found", type: "text/plain", body: Array("not found\n".utf8), allowOrigin: allowOrigin)
        }
        let size = Int(info.st_size)
        guard sendAll(client, header(status: "200 OK", type: type, length: size, allowOrigin: allowOrigin)), !head else { return }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var offset = 0
        while offset < size {
            let n = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, min($0.count, size - offset), off_t(offset)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            if !sendAll(client, Array(buffer[0..<n])) { break }
            offset += n
        }
    }

    /// Sends everything, or gives up when the client takes nothing for `sendTimeout` seconds.
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
