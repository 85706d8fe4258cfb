"""Reads one delivered message (a Maildir file) and prints it as JSON for the tests:
the headers, the text and HTML parts decoded, and each attachment's name, type and text."""
import email
import email.policy
import json
import sys

with open(sys.argv[1], "rb") as handle:
    message = email.message_from_binary_file(handle, policy=email.policy.default)
out = {"headers": {key: str(value) for key, value in message.items()}, "structure": [], "attachments": []}
for part in message.walk():
    out["structure"].append(part.get_content_type())
    if part.is_multipart():
        continue
    if part.get_filename():
        out["attachments"].append({"name": part.get_filename(), "type": part.get_content_type(),
                                   "charset": part.get_content_charset(), "text": part.get_content()
                                   if isinstance(part.get_content(), str) else part.get_content().decode("utf-8")})
    elif part.get_content_type() == "text/plain":
        out["text"] = part.get_content()
    elif part.get_content_type() == "text/html":
        out["html"] = part.get_content()
print(json.dumps(out))
