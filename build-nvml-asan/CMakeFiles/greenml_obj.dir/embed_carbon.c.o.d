CMakeFiles/greenml_obj.dir/embed_carbon.c.o: \
 /work/main/build-nvml-asan/embed_carbon.c /usr/include/stdc-predef.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h
