// Sync.java (tools/realworld): 8 threads, a synchronized counter and wait/notify.
public class Sync {
    static long counter;
    static final Object lock = new Object();
    public static void main(String[] args) throws Exception {
        Thread[] threads = new Thread[8];
        for (int i = 0; i < threads.length; i++) {
            threads[i] = new Thread(() -> {
                for (int k = 0; k < 200000; k++) synchronized (lock) { counter++; lock.notifyAll(); }
            });
            threads[i].start();
        }
        for (Thread t : threads) t.join();
        System.out.println("counter " + counter);
    }
}
