# An independent Sparkplug B payload reader: protobuf wire format in plain
# Python (no generated code, no protoc), with the field numbers typed in from
# the specification (eclipse/tahu sparkplug_b.proto). Reads hex-encoded
# payloads from the arguments, or one per line on stdin, and prints each as one
# JSON line. Strict: an unknown field, a wrong wire type, a repeated singular
# field, two values in one metric or a truncated field is an error (exit 2).
import json, struct, sys

def varint(b, i):
    v, shift = 0, 0
    while True:
        if i >= len(b):
            raise ValueError("truncated varint at byte %d" % i)
        c = b[i]
        i += 1
        v |= (c & 0x7F) << shift
        if not c & 0x80:
            return v, i
        shift += 7
        if shift > 63:
            raise ValueError("varint longer than 10 bytes")

def fields(b):
    i = 0
    while i < len(b):
        key, i = varint(b, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 1:
            v, i = b[i:i + 8], i + 8
        elif wt == 2:
            n, i = varint(b, i)
            v, i = b[i:i + n], i + n
        elif wt == 5:
            v, i = b[i:i + 4], i + 4
        else:
            raise ValueError("field %d: wire type %d" % (num, wt))
        if i > len(b):
            raise ValueError("field %d runs past the end" % num)
        yield num, wt, v

# Sparkplug B (tahu sparkplug_b.proto): number -> (name, wire type, kind)
PAYLOAD = {1: ("timestamp", 0, "uint"), 2: ("metrics", 2, "metric"), 3: ("seq", 0, "uint"),
           4: ("uuid", 2, "string"), 5: ("body", 2, "bytes")}
METRIC = {1: ("name", 2, "string"), 2: ("alias", 0, "uint"), 3: ("timestamp", 0, "uint"),
          4: ("datatype", 0, "uint"), 5: ("is_historical", 0, "bool"), 6: ("is_transient", 0, "bool"),
          7: ("is_null", 0, "bool"), 10: ("int_value", 0, "uint"), 11: ("long_value", 0, "uint"),
          12: ("float_bits", 5, "f32"), 13: ("double_bits", 1, "f64"), 14: ("boolean_value", 0, "bool"),
          15: ("string_value", 2, "string"), 16: ("bytes_hex", 2, "bytes")}
ONEOF = {"int_value", "long_value", "float_bits", "double_bits", "boolean_value", "string_value", "bytes_hex"}

def value(kind, v):
    if kind == "uint":
        return v
    if kind == "bool":
        if v not in (0, 1):
            raise ValueError("bool encoded as %d" % v)
        return v == 1
    if kind == "string":
        return v.decode("utf-8")
    if kind == "bytes":
        return v.hex()
    if kind == "f32":
        return struct.unpack("<I", v)[0]
    if kind == "f64":
        return struct.unpack("<Q", v)[0]
    if kind == "metric":
        m = message(v, METRIC)
        if len(ONEOF & set(m)) > 1:
            raise ValueError("metric %r has two values" % m)
        return m
    raise ValueError(kind)

def message(b, schema):
    out = {}
    for num, wt, v in fields(b):
        if num not in schema:
            raise ValueError("unexpected field %d" % num)
        name, want, kind = schema[num]
        if wt != want:
            raise ValueError("field %d (%s): wire type %d, expected %d" % (num, name, wt, want))
        if kind == "metric":
            out.setdefault(name, []).append(value(kind, v))
        elif name in out:
            raise ValueError("field %d (%s) appears twice" % (num, name))
        else:
            out[name] = value(kind, v)
    return out

try:
    for h in sys.argv[1:] or (line.strip() for line in sys.stdin if line.strip()):
        print(json.dumps(message(bytes.fromhex(h), PAYLOAD), sort_keys=True))
except ValueError as e:
    print("error: %s" % e)
    sys.exit(2)
