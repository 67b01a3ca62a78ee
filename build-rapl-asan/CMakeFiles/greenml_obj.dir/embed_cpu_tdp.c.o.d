CMakeFiles/greenml_obj.dir/embed_cpu_tdp.c.o: \
 /work/main/build-rapl-asan/embed_cpu_tdp.c /usr/include/stdc-predef.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h
