int data_obj[4] = {1,2,3,4};
static int helper(int x) { return x * 3; }
int work(int x) { return helper(x) + data_obj[x & 3]; }
void _start(void) { work(1); for (;;) {} }
