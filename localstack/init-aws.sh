#!/usr/bin/env bash
# LocalStack ready hook: creates the buckets, queues (with redrive to the DLQ) and real S3 event
# notifications that localstack/resources.json declares — the same as `npm start` and serverless.yml.
set -euo pipefail
RESOURCES=${RESOURCES:-/etc/localstack/init/resources.json}
REGION=${AWS_DEFAULT_REGION:-us-east-1}
ACCOUNT=000000000000

python3 - "$RESOURCES" "$REGION" "$ACCOUNT" <<'PY' > /tmp/vectorizer-resources.sh
import json, shlex, sys
resources, region, account = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
arn = lambda queue: f"arn:aws:sqs:{region}:{account}:{queue}"
lines = [f"awslocal s3 mb s3://{shlex.quote(bucket)}" for bucket in resources["buckets"]]
# Dead-letter queues first: a redrive policy names its DLQ's ARN.
for queue in sorted(resources["queues"], key=lambda q: bool(q.get("deadLetterQueue"))):
    attributes = {}
    if "visibilityTimeoutSeconds" in queue:
        attributes["VisibilityTimeout"] = str(queue["visibilityTimeoutSeconds"])
    if queue.get("deadLetterQueue"):
        attributes["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": arn(queue["deadLetterQueue"]), "maxReceiveCount": str(queue.get("maxReceiveCount", 3))})
    line = f"awslocal sqs create-queue --queue-name {shlex.quote(queue['name'])}"
    if attributes:
        line += f" --attributes {shlex.quote(json.dumps(attributes))}"
    lines.append(line)
for rule in resources["notifications"]:
    # S3 takes one suffix per filter rule: one queue configuration per suffix.
    configurations = [{
        "Id": f"vectorizer-{index}",
        "QueueArn": arn(rule["queue"]),
        "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": ([{"Name": "prefix", "Value": rule["prefix"]}] if rule.get("prefix") else []) + [{"Name": "suffix", "Value": suffix}]}},
    } for index, suffix in enumerate(rule["suffixes"])]
    document = json.dumps({"QueueConfigurations": configurations})
    lines.append(f"awslocal s3api put-bucket-notification-configuration --bucket {shlex.quote(rule['bucket'])} --notification-configuration {shlex.quote(document)}")
print("\n".join(lines))
PY
bash -x /tmp/vectorizer-resources.sh
echo "serverless-vectorizer resources ready"
