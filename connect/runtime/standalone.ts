/**
 * Standalone mode: one worker runs every connector and task; configs and statuses live in memory
 * (connector configs come from the command line or the REST API), source offsets in
 * `offset.storage.file.filename`.
 */
import { Herder } from './herder.js';

export class StandaloneHerder extends Herder {
  async start(): Promise<void> {
    this.deps.configs.listen(
      () => void this.reconcile(),
      (req) => this.handleRestart(req),
    );
  }

  async stop(): Promise<void> {
    await this.reconcile();
    await this.worker.stopAll();
  }

  protected ownsConnector(): boolean {
    return true;
  }
  protected ownsTask(): boolean {
    return true;
  }
  protected checkReady(): void {}
  protected generation(): number {
    return 0;
  }
}
