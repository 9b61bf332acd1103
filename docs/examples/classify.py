#!/usr/bin/env python3
"""Classify an image with SqueezeNext.Jobs from Python, through RabbitMQ, following docs/messages.md.

Needs pika (Debian: python3-pika; elsewhere: pip install pika). Two ways to get the answer:

  classify.py cat.jpg                 waits for the answer on a reply queue of its own (request/response)
  classify.py cat.jpg --event         publishes the request and takes the ImageClassified event

Prints the answer's message as JSON: {"kind": "ImageClassified" | "ClassificationRejected", "message": {...}}.
Exit status: 0 answered, 1 rejected, 2 no answer within --timeout.
"""
import argparse
import base64
import datetime
import json
import sys
import time
import uuid

import pika

CONTRACTS = "SqueezeNext.Contracts"
# MassTransit names a message type's exchange "<namespace>:<type>" and lists "urn:message:<namespace>:<type>" in messageType.
REQUEST_EXCHANGE = f"{CONTRACTS}:ClassifyImage"
ANSWERS = {f"urn:message:{CONTRACTS}:ImageClassified": "ImageClassified",
           f"urn:message:{CONTRACTS}:ClassificationRejected": "ClassificationRejected"}


def envelope(request_id, image, top, model, address, response_queue):
    """The MassTransit JSON envelope around a ClassifyImage message (docs/messages.md, "The envelope")."""
    message = {
        "messageId": str(uuid.uuid4()),
        "requestId": request_id if response_queue else None,
        "conversationId": str(uuid.uuid4()),
        "sourceAddress": f"{address}/python-client",
        "destinationAddress": f"{address}/{REQUEST_EXCHANGE}",
        "messageType": [f"urn:message:{REQUEST_EXCHANGE}"],
        "message": {"requestId": request_id, "image": base64.b64encode(image).decode("ascii"), "top": top,
                    "modelName": model, "modelVersion": None},
        "sentTime": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "headers": {},
    }
    if response_queue:
        # temporary=true: the worker declares the reply exchange as this client did (not durable, deleted when unused).
        message["responseAddress"] = f"{address}/{response_queue}?temporary=true"
    return message


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("image")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5672)
    parser.add_argument("--user", default="guest")
    parser.add_argument("--password", default="guest")
    parser.add_argument("--vhost", default="/")
    parser.add_argument("--top", type=int, default=5)
    parser.add_argument("--model", default=None, help="model name (default: the serving model)")
    parser.add_argument("--event", action="store_true", help="take the published event instead of a direct answer")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    with open(args.image, "rb") as file:
        image = file.read()
    connection = pika.BlockingConnection(pika.ConnectionParameters(
        host=args.host, port=args.port, virtual_host=args.vhost,
        credentials=pika.PlainCredentials(args.user, args.password)))
    channel = connection.channel()
    vhost_path = "" if args.vhost == "/" else "/" + args.vhost
    address = f"rabbitmq://{args.host}:{args.port}{vhost_path}"
    request_id = str(uuid.uuid4())

    # A queue of our own for the answer. MassTransit sends a response to the exchange named in the response address,
    # so an exchange of the same name feeds the queue; both are declared as "?temporary=true" makes the worker declare
    # them (not durable, deleted once unused).
    answers = f"python-classify-{uuid.uuid4().hex}"
    channel.queue_declare(answers, durable=False, auto_delete=True)
    if not args.event:
        channel.exchange_declare(answers, exchange_type="fanout", durable=False, auto_delete=True)
        channel.queue_bind(answers, answers)
    else:
        for exchange in ANSWERS.values():
            exchange = f"{CONTRACTS}:{exchange}"
            channel.exchange_declare(exchange, exchange_type="fanout", durable=True)
            channel.queue_bind(answers, exchange)
    # The worker declares the request exchange too; declaring it here lets a client start first.
    channel.exchange_declare(REQUEST_EXCHANGE, exchange_type="fanout", durable=True)

    body = json.dumps(envelope(request_id, image, args.top, args.model, address, None if args.event else answers))
    # A caller that waits sends the request non-persistent (delivery mode 1); an event-driven one keeps it (2).
    channel.basic_publish(REQUEST_EXCHANGE, "", body.encode("utf-8"), pika.BasicProperties(
        content_type="application/vnd.masstransit+json", message_id=str(uuid.uuid4()),
        delivery_mode=2 if args.event else 1))

    deadline = time.monotonic() + args.timeout
    for method, _, payload in channel.consume(answers, inactivity_timeout=1):
        if method is not None:
            channel.basic_ack(method.delivery_tag)
            answer = json.loads(payload)
            kind = next((ANSWERS[t] for t in answer.get("messageType", []) if t in ANSWERS), None)
            if kind and answer["message"].get("requestId") == request_id:
                print(json.dumps({"kind": kind, "message": answer["message"]}, indent=2))
                connection.close()
                return 0 if kind == "ImageClassified" else 1
        if time.monotonic() > deadline:
            break
    connection.close()
    print(f"no answer to request {request_id} within {args.timeout:g} s", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
