// 8 threads incrementing one counter inside `synchronized`.
public class Sync {
    static long counter;
    static final Object lock = new Object();
    public static void main(String[] args) throws Exception {
        int n = 8, per = args.length > 0 ? Integer.parseInt(args[0]) : 2000000;
        Thread[] t = new Thread[n];
        for (int i = 0; i < n; i++) {
            t[i] = new Thread(() -> { for (int k = 0; k < per; k++) synchronized (lock) { counter++; } });
            t[i].start();
        }
        for (Thread x : t) x.join();
        System.out.println("counter " + counter);
    }
}
