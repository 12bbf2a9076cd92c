#!/usr/bin/env python3
"""Verify one Standard Webhooks delivery with the reference library (`pip install standardwebhooks`).

Usage: verify_standard_webhook.py SECRET WEBHOOK_ID WEBHOOK_TIMESTAMP WEBHOOK_SIGNATURE < body

The body is read from stdin as raw bytes, so the bytes checked are exactly the bytes signed.
Exit status: 0 verified, 1 rejected (reason on stderr), 2 usage error, 3 library missing.
The library checks the timestamp against the current clock (5 minutes either way).
"""
import sys

try:
    from standardwebhooks.webhooks import Webhook, WebhookVerificationError
except ImportError as exc:  # pragma: no cover - environment problem, not a test result
    print(f"standardwebhooks is not installed ({exc}): pip install standardwebhooks", file=sys.stderr)
    sys.exit(3)


def main() -> int:
    if len(sys.argv) != 5:
        print(__doc__, file=sys.stderr)
        return 2
    secret, msg_id, timestamp, signature = sys.argv[1:5]
    body = sys.stdin.buffer.read()
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": timestamp,
        "webhook-signature": signature,
    }
    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except WebhookVerificationError as exc:
        print(f"rejected: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # malformed input reaches the library's parsing code
        print(f"rejected: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    print("verified")
    return 0


if __name__ == "__main__":
    sys.exit(main())
