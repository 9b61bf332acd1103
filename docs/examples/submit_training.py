#!/usr/bin/env python3
"""Queue a SqueezeNext training run from Python, through RabbitMQ, following docs/messages.md.

Needs pika (Debian: python3-pika; elsewhere: pip install pika). Two ways to get the answer:

  submit_training.py --config 1.0-SqNxt-23-28px --dataset fashion-mnist            a reply queue of its own
  submit_training.py --config 1.0-SqNxt-23-28px --dataset fashion-mnist --event    the RunQueued event

Prints the answer's message as JSON: {"kind": "RunQueued" | "CommandRejected", "message": {...}}.
The run id (--run-id, default a new one) is the idempotency key: sending it again answers with "duplicate": true.
Exit status: 0 queued, 1 rejected, 2 no answer within --timeout.
"""
import argparse
import datetime
import json
import sys
import time
import uuid

import pika

CONTRACTS = "SqueezeNext.Contracts"
REQUEST_EXCHANGE = f"{CONTRACTS}:SubmitTraining"
ANSWERS = {f"urn:message:{CONTRACTS}:RunQueued": "RunQueued",
           f"urn:message:{CONTRACTS}:CommandRejected": "CommandRejected"}


def envelope(run_id, command, address, response_queue):
    """The MassTransit JSON envelope around a SubmitTraining command (docs/messages.md, "The envelope")."""
    message = {
        "messageId": str(uuid.uuid4()),
        "requestId": run_id if response_queue else None,
        "conversationId": str(uuid.uuid4()),
        "sourceAddress": f"{address}/python-client",
        "destinationAddress": f"{address}/{REQUEST_EXCHANGE}",
        "messageType": [f"urn:message:{REQUEST_EXCHANGE}"],
        "message": command,
        "sentTime": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "headers": {},
    }
    if response_queue:
        message["responseAddress"] = f"{address}/{response_queue}?temporary=true"
    return message


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True, help="a named configuration (sqnxt configs)")
    parser.add_argument("--dataset", required=True, help="a dataset under the workers' data root")
    parser.add_argument("--run-id", default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--max-steps", type=int, default=None)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--name", default=None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5672)
    parser.add_argument("--user", default="guest")
    parser.add_argument("--password", default="guest")
    parser.add_argument("--vhost", default="/")
    parser.add_argument("--event", action="store_true", help="take the published event instead of a direct answer")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()

    run_id = args.run_id or str(uuid.uuid4())
    # Settings left out (or null) take the configuration's recipe or their default; names are the C# records', in camelCase.
    settings = {"epochs": args.epochs, "maxSteps": args.max_steps, "batchSize": args.batch_size}
    command = {"runId": run_id, "configuration": args.config, "dataset": args.dataset, "name": args.name,
               "settings": {name: value for name, value in settings.items() if value is not None}}

    connection = pika.BlockingConnection(pika.ConnectionParameters(
        host=args.host, port=args.port, virtual_host=args.vhost,
        credentials=pika.PlainCredentials(args.user, args.password)))
    channel = connection.channel()
    vhost_path = "" if args.vhost == "/" else "/" + args.vhost
    address = f"rabbitmq://{args.host}:{args.port}{vhost_path}"

    answers = f"python-submit-{uuid.uuid4().hex}"
    channel.queue_declare(answers, durable=False, auto_delete=True)
    if not args.event:
        channel.exchange_declare(answers, exchange_type="fanout", durable=False, auto_delete=True)
        channel.queue_bind(answers, answers)
    else:
        for exchange in ANSWERS.values():
            exchange = f"{CONTRACTS}:{exchange}"
            channel.exchange_declare(exchange, exchange_type="fanout", durable=True)
            channel.queue_bind(answers, exchange)
    channel.exchange_declare(REQUEST_EXCHANGE, exchange_type="fanout", durable=True)

    body = json.dumps(envelope(run_id, command, address, None if args.event else answers))
    # A command is kept by the broker until a worker takes it (delivery mode 2, persistent).
    channel.basic_publish(REQUEST_EXCHANGE, "", body.encode("utf-8"), pika.BasicProperties(
        content_type="application/vnd.masstransit+json", message_id=str(uuid.uuid4()), delivery_mode=2))

    deadline = time.monotonic() + args.timeout
    for method, _, payload in channel.consume(answers, inactivity_timeout=1):
        if method is not None:
            channel.basic_ack(method.delivery_tag)
            answer = json.loads(payload)
            kind = next((ANSWERS[t] for t in answer.get("messageType", []) if t in ANSWERS), None)
            # A RunQueued names the run; a CommandRejected names the command, whose id is the run id.
            answered = answer["message"].get("runId") or answer["message"].get("commandId")
            if kind and answered == run_id:
                print(json.dumps({"kind": kind, "message": answer["message"]}, indent=2))
                connection.close()
                return 0 if kind == "RunQueued" else 1
        if time.monotonic() > deadline:
            break
    connection.close()
    print(f"no answer to run {run_id} within {args.timeout:g} s", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
