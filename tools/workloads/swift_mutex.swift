// swift_mutex.swift — four threads contending on a Synchronization.Mutex
// (a futex word on Linux, taken with FUTEX_LOCK_PI through libc's syscall()).
// Prints "count N" (4 × 40 increments).
import Foundation
import Synchronization

let counter = Mutex<Int>(0)

func spin(microseconds: Double) {
    let start = Date()
    while Date().timeIntervalSince(start) * 1e6 < microseconds {}
}

let finished = DispatchSemaphore(value: 0)
for _ in 0..<4 {
    Thread.detachNewThread {
        for _ in 0..<40 {
            counter.withLock { value in
                value += 1
                spin(microseconds: 1000)
            }
            spin(microseconds: 200)
        }
        finished.signal()
    }
}
for _ in 0..<4 { finished.wait() }
print("count", counter.withLock { $0 })
