/* peakrss.c - run a command; print its wall time, peak resident set and
 * CPU time.
 *
 *   peakrss CMD [ARG...]   prints "SECONDS PEAK_KIB STATUS CPU_SECONDS" on
 *                          stderr's last line; CMD's stdout and stderr pass
 *                          through. CPU is user plus system time of CMD and
 *                          the descendants it waited for (what wait4 counts)
 *
 * Why not measure from the benchmark script itself: Linux keeps a
 * process's peak RSS across fork and exec, so a child of the (large)
 * Python process reports Python's peak when its own is smaller. This
 * helper is small, so what wait4 gives it is the command's own peak. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: peakrss CMD [ARG...]\n");
		return 2;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid = fork();
	if (pid < 0) {
		perror("peakrss: fork");
		return 2;
	}
	if (pid == 0) {
		execvp(argv[1], argv + 1);
		perror("peakrss: exec");
		_exit(127);
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("peakrss: wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	fprintf(stderr, "%.6f %ld %d %.6f\n", secs, ru.ru_maxrss, code, cpu);
	return 0;
}
