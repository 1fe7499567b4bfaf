"""Reads HL7 v2 messages with Debian's python3-hl7, an HL7 parser independent of ours.

stdin: a JSON array of messages (segments separated by \\r). stdout: a JSON array, one item per
message: its segments in order, each as {"name", "fields"}, where fields[n] is HL7 field n as
repetitions -> components -> subcomponents, every value unescaped by python-hl7 (it turns \\.br\\
into \\r). MSH-1 and MSH-2 are kept as written. An OBX whose OBX-2 is ED also gets "edBytesHex":
its base64 data (OBX-5.5) decoded by Python.
"""
import base64
import json
import sys

import hl7


def subcomponents(message, component):
    parts = [component] if isinstance(component, str) else [str(p) for p in component]
    return [message.unescape(p) for p in parts]


def components(message, repetition):
    if isinstance(repetition, str):
        return [subcomponents(message, repetition)]
    return [subcomponents(message, c) for c in repetition]


def repetitions(message, field):
    if all(isinstance(item, str) for item in field):
        return [[[message.unescape(str(field))]]]
    return [components(message, r) for r in field]


def read_segment(message, segment):
    name = str(segment[0])
    fields = [[[[name]]]]
    for index in range(1, len(segment)):
        if name == "MSH" and index <= 2:
            fields.append([[[str(segment[index])]]])
        else:
            fields.append(repetitions(message, segment[index]))
    item = {"name": name, "fields": fields}
    if name == "OBX" and len(segment) > 5 and str(segment[2]) == "ED":
        data = fields[5][0][4][0]
        item["edBytesHex"] = base64.b64decode(data, validate=True).hex()
    return item


def read_message(text):
    message = hl7.parse(text)
    return [read_segment(message, segment) for segment in message]


messages = json.loads(sys.stdin.buffer.read().decode("utf-8"))
sys.stdout.write(json.dumps([read_message(text) for text in messages], ensure_ascii=False))
