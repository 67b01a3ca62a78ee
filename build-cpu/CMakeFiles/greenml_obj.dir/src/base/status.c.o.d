CMakeFiles/greenml_obj.dir/src/base/status.c.o: \
 /work/main/src/base/status.c /usr/include/stdc-predef.h \
 /work/main/include/greenml/status.h /work/main/include/greenml/api.h
