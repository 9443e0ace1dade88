// A JVM workload for the live JIT test: hot() runs in C2-compiled code
// (without -XX:+PreserveFramePointer, rbp is a general register there).
public class Hot {
  static int hot(int n) { int s = 0; for (int i = 0; i < n; i++) { s = s * 31 + i; } return s; }
  static int mid(int n) { return hot(n) + 1; }
  public static void main(String[] a) {
    System.out.print("r"); System.out.flush();
    long t = 0;
    for (;;) { t += mid(100000); if (t == 42) System.out.println(t); }
  }
}
