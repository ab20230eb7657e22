/* The machine's float32 FMA peak: 12 independent AVX2 FMA chains per thread, no memory.
 * The ceiling for every GFLOP/s figure of the benchmark (a matrix product cannot beat it).
 *
 *     gcc -O2 -mavx2 -mfma -pthread tools/fma_peak.c -o /tmp/fma_peak && /tmp/fma_peak 2
 *
 * Seen on this project's machine (2 cores of an AMD EPYC, Zen 4): 114 GFLOP/s per core,
 * 232 GFLOP/s on both; the AVX-512 variant gives the same (Zen 4 runs 512-bit FMAs as two
 * 256-bit halves). NumPy's OpenBLAS 2048^3 sgemm reaches ~200 of it.
 */
#include <stdlib.h>
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
#include <pthread.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void *run(void *arg){
  __m256 a[12]; __m256 b=_mm256_set1_ps(0.999999f), c=_mm256_set1_ps(1e-7f);
  for(int i=0;i<12;i++) a[i]=_mm256_set1_ps(i);
  long n=400000000L/12;
  for(long k=0;k<n;k++){
    #pragma GCC unroll 12
    for(int i=0;i<12;i++) a[i]=_mm256_fmadd_ps(a[i],b,c);
  }
  float s=0; for(int i=0;i<12;i++){float t[8];_mm256_storeu_ps(t,a[i]);s+=t[0];}
  *(float*)arg=s; return 0;
}
int main(int argc,char**argv){
  int nt=argc>1?atoi(argv[1]):1; pthread_t th[8]; float r[8];
  double t0=now(); for(int i=0;i<nt;i++) pthread_create(&th[i],0,run,&r[i]); for(int i=0;i<nt;i++) pthread_join(th[i],0);
  double dt=now()-t0; double flops=2.0*8*12*(400000000L/12)*nt;
  printf("%d threads: %.1f GFLOP/s (fp32 FMA, AVX2)\n", nt, flops/dt/1e9);
}
