# proto/: the messages between cnwd's processes and their checks.
noinst_LIBRARIES += proto/libproto.a
proto_libproto_a_SOURCES = proto/proto.c proto/proto.h proto/proto.def
