import { Injectable, OnModuleInit } from '@nestjs/common';
import { JobObserver } from '../queue/job-observer';
import { NotificationRepository } from './notification.repository';
import { SubmissionRepository } from './submission.repository';

/**
 * Tells the queue's JobObserver which Procore project (and submission) a job concerns, so each
 * line of a job about a submission or one of its emails carries `procoreProjectId`.
 */
@Injectable()
export class SubmissionJobLogContext implements OnModuleInit {
  constructor(
    private readonly observer: JobObserver,
    private readonly submissions: SubmissionRepository,
    private readonly notifications: NotificationRepository,
  ) {}

  onModuleInit(): void {
    this.observer.addContextResolver(async (payload) => {
      if (typeof payload.submissionId === 'string') return { procoreProjectId: await this.submissions.procoreProjectOf(payload.submissionId) };
      if (typeof payload.notificationId === 'string') return this.notifications.logContextOf(payload.notificationId);
      return {};
    });
  }
}
