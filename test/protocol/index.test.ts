import * as core from '../../src/protocol';
import { NOW, params, patient, patientView } from './builders';

describe('the public API of the decision core', () => {
  it('exposes decide and checkDraftOrder, and they work together from the index', () => {
    const rec = core.decide(patient().build(), params, NOW, patientView);
    expect(rec.ruleId).toBe('S3');
    const check = core.checkDraftOrder(
      { id: 'd', rate: { kind: 'quantity', value: 0.1, unit: 'mg/kg/h' }, concentrationMgPerMl: null },
      rec,
      params,
      'order-select',
    );
    expect(check.ruleId).toBeNull();
    expect(typeof core.convertRate).toBe('function');
    expect(typeof core.buildInfusion).toBe('function');
    expect(typeof core.normalisePain).toBe('function');
    expect(typeof core.judgeVitals).toBe('function');
  });
});
