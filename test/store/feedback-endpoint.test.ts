/**
 * validateFeedback + recordFeedback wired into a tiny express app the way the HTTP adapter does it.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { openStore, validateFeedback, type Store } from '../../src/store';
import { toOperationOutcomeError } from '../../src/errors';

const CARD = '1f6f3d8e-2f4b-4c5e-9a8b-0c1d2e3f4a5b';
const item = { card: CARD, outcome: 'overridden', outcomeTimestamp: '2024-05-01T10:15:00Z' };

let store: Store;
let app: express.Express;

beforeEach(async () => {
  store = await openStore(':memory:');
  app = express();
  app.use(express.json({ type: ['application/json', 'application/fhir+json'] }));
  app.post('/cds-services/:id/feedback', async (req: Request<{ id: string }>, res: Response) => {
    const result = await store.recordFeedback(req.params.id, validateFeedback(req.body));
    res.json(result);
  });
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const error = toOperationOutcomeError(err);
    res.status(error.status).json(error.outcome);
  });
});

afterEach(() => store.close());

describe('the feedback endpoint', () => {
  it('CH-F1 CH-F3 a batch is answered 200, and the same batch again stores nothing new', async () => {
    const first = await request(app)
      .post('/cds-services/ketamine-order-select/feedback')
      .send({ feedback: [item] });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ stored: 1, duplicates: 0 });
    const again = await request(app)
      .post('/cds-services/ketamine-order-select/feedback')
      .send({ feedback: [item] });
    expect(again.body).toEqual({ stored: 0, duplicates: 1 });
    expect(await store.listFeedback({ serviceId: 'ketamine-order-select' })).toHaveLength(1);
  });

  it('CH-F2 an invalid item is a 400 OperationOutcome naming the field, and nothing is stored', async () => {
    const res = await request(app)
      .post('/cds-services/ketamine-order-select/feedback')
      .send({ feedback: [item, { ...item, outcome: 'accepted' }] });
    expect(res.status).toBe(400);
    expect(res.body.resourceType).toBe('OperationOutcome');
    expect(res.body.issue[0].expression).toEqual(['feedback[1].acceptedSuggestions']);
    expect(await store.listFeedback()).toHaveLength(0);
  });
});
