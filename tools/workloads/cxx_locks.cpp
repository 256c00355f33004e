// cxx_locks.cpp — a C++ program whose lock and call site have mangled names,
// for the demangling test: std::mutex `jobs::Queue::guard_` (a static member)
// is taken in `jobs::Queue::push(int)` from two threads.
#include <mutex>
#include <thread>

namespace jobs {
struct Queue {
    static std::mutex guard_;
    static long size_;
    __attribute__((noinline)) static void push(int n) {
        for (int i = 0; i < n; i++) {
            std::lock_guard<std::mutex> hold(guard_);
            size_++;
        }
    }
};
std::mutex Queue::guard_;
long Queue::size_ = 0;
}  // namespace jobs

int main() {
    std::thread a(jobs::Queue::push, 1000), b(jobs::Queue::push, 1000);
    a.join();
    b.join();
    return jobs::Queue::size_ == 2000 ? 0 : 1;
}
