/*
 * tests/probe_fixtures/stub_icd.c: fake OpenCL drivers for tests/test_probe.py, built at test
 * time with `gcc -shared -fPIC` into $TEST_TMP, one per -D:
 *
 *   -DSTUB_NOT_ICD   a library with no OpenCL entry point at all
 *   -DSTUB_NO_ENTRY  exports clGetExtensionFunctionAddress, which resolves nothing
 *   -DSTUB_CRASH     a valid-looking ICD whose clIcdGetPlatformIDsKHR dies with SIGSEGV, as a
 *                    broken driver does while the loader lists platforms
 *   -DSTUB_DEP       like STUB_NOT_ICD; the test links it against a library it then deletes
 *   -DSTUB_CTOR_CRASH  like STUB_CRASH, but it dies in its constructor, when it is loaded (as a
 *                    driver, or as the loader VOXBENCH_OPENCL_LIBRARY names)
 *   -DSTUB_HANG      like STUB_CRASH, but clIcdGetPlatformIDsKHR never returns
 *
 * The ICD loader's own tests use a stub driver the same way.
 */
#include <signal.h>
#include <stddef.h>
#include <string.h>

#if defined(STUB_NOT_ICD) || defined(STUB_DEP)

int stub_not_an_icd(void)
{
	return 42;
}

#elif defined(STUB_NO_ENTRY)

void *clGetExtensionFunctionAddress(const char *name)
{
	(void)name;
	return NULL;
}

#elif defined(STUB_CRASH) || defined(STUB_CTOR_CRASH) || defined(STUB_HANG)

#include <unistd.h>

#ifdef STUB_CTOR_CRASH
__attribute__((constructor)) static void crash_on_load(void)
{
	raise(SIGSEGV);
}
#endif

/* Signatures as in CL/cl_icd.h, with plain types so the stub needs no OpenCL headers. */
int clIcdGetPlatformIDsKHR(unsigned num_entries, void **platforms, unsigned *num_platforms)
{
	(void)num_entries;
	(void)platforms;
	(void)num_platforms;
#ifdef STUB_HANG
	for (;;)
		pause();
#endif
	raise(SIGSEGV);
	return -1001;
}

/* ocl-icd only takes drivers that also resolve clGetPlatformInfo. */
int clGetPlatformInfo(void *platform, unsigned name, size_t size, void *value, size_t *ret)
{
	(void)platform;
	(void)name;
	(void)size;
	(void)value;
	(void)ret;
	return -32; /* CL_INVALID_PLATFORM */
}

void *clGetExtensionFunctionAddress(const char *name)
{
	if (name && strcmp(name, "clIcdGetPlatformIDsKHR") == 0)
		return (void *)clIcdGetPlatformIDsKHR;
	if (name && strcmp(name, "clGetPlatformInfo") == 0)
		return (void *)clGetPlatformInfo;
	return NULL;
}

#else
#error "build with one of -DSTUB_NOT_ICD, -DSTUB_NO_ENTRY, -DSTUB_CRASH, -DSTUB_CTOR_CRASH, -DSTUB_HANG, -DSTUB_DEP"
#endif
