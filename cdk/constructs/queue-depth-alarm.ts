/**
 * An alarm that fires while a dead-letter queue holds any visible message, published to the stage's alarm topic.
 *
 * The jobs-dlq function drains the DLQ within seconds, so a visible message means that function is failing or
 * backlogged: jobs that exhausted their retries are not being marked failed. That is worth a page.
 */
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface QueueDepthAlarmProps {
  queue: IQueue;
  alarmName: string;
  description: string;
  topic: ITopic;
}

/** Alarm on `ApproximateNumberOfMessagesVisible >= 1` (maximum over one minute), sent to `topic` on alarm and OK. */
export class QueueDepthAlarm extends Construct {
  readonly alarm: Alarm;

  constructor(scope: Construct, id: string, props: QueueDepthAlarmProps) {
    super(scope, id);
    this.alarm = new Alarm(this, 'Alarm', {
      alarmName: props.alarmName,
      alarmDescription: props.description,
      metric: props.queue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(1),
        statistic: 'Maximum',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // SQS stops publishing metrics of a queue idle for hours; that gap means an empty queue, not a fault.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const action = new SnsAction(props.topic);
    this.alarm.addAlarmAction(action);
    this.alarm.addOkAction(action);
  }
}
