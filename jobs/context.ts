/** What a job needs to run: the open database and client, and the pipeline's settings. */
import type { PipelineContext, PipelineOptions } from '../src/pipeline.js';

export interface JobContext extends PipelineContext {
  settings: Omit<PipelineOptions, 'total'>;
}
