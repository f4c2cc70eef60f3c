/* The machine's measured GEMM peak: OpenBLAS cblas_sgemm (and cblas_dgemm) on
 * square matrices, with one thread and with all threads, best of several reps.
 * Prints one JSON object per measurement on stdout and a summary object last:
 *   {"kind":"gemm","routine":"sgemm","n":2048,"threads":1,"seconds":...,"gflops":...}
 *   {"kind":"gemm_peak","sgemm_1":...,"sgemm_all":...,"threads_all":2,"corename":"Zen",...}
 * Usage: gemm_peak [--quick] [--sizes 2048,4096] [--reps N]
 * Built by scripts/bench: cc -O2 bench/gemm_peak.c -lopenblas (Debian libopenblas-dev). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* In OpenBLAS's cblas.h; declared here too in case another cblas.h is found first. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);
char* openblas_get_config(void);
char* openblas_get_corename(void);

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best seconds of `reps` products C = A B (n x n), after one warm-up. */
static double time_gemm(int dbl, int n, int reps) {
  size_t count = (size_t)n * (size_t)n;
  size_t elem = dbl ? sizeof(double) : sizeof(float);
  void* a = malloc(count * elem);
  void* b = malloc(count * elem);
  void* c = malloc(count * elem);
  if (!a || !b || !c) {
    fprintf(stderr, "gemm_peak: out of memory for n = %d\n", n);
    exit(1);
  }
  unsigned s = 12345u;
  for (size_t i = 0; i < count; ++i) {
    s = s * 1103515245u + 12345u;
    double v = (double)((s >> 8) & 0xffff) / 65536.0 - 0.5;
    if (dbl) {
      ((double*)a)[i] = v;
      ((double*)b)[i] = -v;
      ((double*)c)[i] = 0;
    } else {
      ((float*)a)[i] = (float)v;
      ((float*)b)[i] = (float)-v;
      ((float*)c)[i] = 0;
    }
  }
  double best = 1e300;
  for (int r = 0; r <= reps; ++r) {  /* r = 0 is the warm-up */
    double t0 = now();
    if (dbl)
      cblas_dgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0, (double*)a, n, (double*)b, n, 0.0,
                  (double*)c, n);
    else
      cblas_sgemm(CblasColMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, (float*)a, n, (float*)b, n, 0.0f,
                  (float*)c, n);
    double t = now() - t0;
    if (r > 0 && t < best) best = t;
  }
  free(a);
  free(b);
  free(c);
  return best;
}

static void json_string(const char* s) {
  putchar('"');
  for (; s && *s; ++s) {
    if (*s == '"' || *s == '\\') putchar('\\');
    if ((unsigned char)*s < 0x20) continue;
    putchar(*s);
  }
  putchar('"');
}

int main(int argc, char** argv) {
  int sizes[8] = {2048, 4096};
  int nsizes = 2, reps = 3, quick = 0;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--quick") == 0) {
      quick = 1;
    } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
      reps = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--sizes") == 0 && i + 1 < argc) {
      nsizes = 0;
      for (char* tok = strtok(argv[++i], ","); tok && nsizes < 8; tok = strtok(NULL, ",")) sizes[nsizes++] = atoi(tok);
    } else {
      fprintf(stderr, "usage: gemm_peak [--quick] [--sizes 2048,4096] [--reps N]\n");
      return 2;
    }
  }
  if (quick) {
    sizes[0] = 1024;
    nsizes = 1;
    reps = 2;
  }
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  if (cores < 1) cores = 1;
  int thread_counts[2] = {1, (int)cores};
  int nthreads = cores > 1 ? 2 : 1;
  double best[2][2] = {{0, 0}, {0, 0}}; /* [dbl][all threads] */
  for (int dbl = 0; dbl < 2; ++dbl)
    for (int ti = 0; ti < nthreads; ++ti)
      for (int si = 0; si < nsizes; ++si) {
        int n = sizes[si], th = thread_counts[ti];
        openblas_set_num_threads(th);
        double sec = time_gemm(dbl, n, reps);
        double gflops = 2.0 * n * (double)n * n / sec / 1e9;
        printf("{\"kind\":\"gemm\",\"routine\":\"%s\",\"n\":%d,\"threads\":%d,\"reps\":%d,\"seconds\":%.6g,\"gflops\":%.4g}\n",
               dbl ? "dgemm" : "sgemm", n, th, reps, sec, gflops);
        fflush(stdout);
        if (gflops > best[dbl][ti]) best[dbl][ti] = gflops;
      }
  if (nthreads == 1) {
    best[0][1] = best[0][0];
    best[1][1] = best[1][0];
  }
  printf("{\"kind\":\"gemm_peak\",\"sgemm_1\":%.4g,\"sgemm_all\":%.4g,\"dgemm_1\":%.4g,\"dgemm_all\":%.4g,"
         "\"threads_all\":%ld,\"quick\":%s,\"corename\":",
         best[0][0], best[0][1], best[1][0], best[1][1], cores, quick ? "true" : "false");
  json_string(openblas_get_corename());
  printf(",\"config\":");
  json_string(openblas_get_config());
  printf("}\n");
  return 0;
}
