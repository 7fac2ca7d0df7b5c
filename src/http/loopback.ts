/**
 * Keeps a route to this machine: the demo's writable, resettable FHIR server must never answer a client
 * on another interface unless the operator asks for it (DEMO_FHIR_PUBLIC=on). A request passes only when
 * both ends of its connection are loopback addresses (127.0.0.0/8, ::1, or IPv4-mapped 127.x), whatever
 * HOST the service listens on. Headers (X-Forwarded-For, Host) are never trusted for this.
 */
import { isIP } from 'node:net';
import type { RequestHandler } from 'express';
import { OperationOutcomeError } from '../errors';

export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined || isIP(address) === 0) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice('::ffff:'.length) : address;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return address === '::1';
}

/** 403 OperationOutcome for any request that did not arrive over loopback from loopback. */
export function loopbackOnly(what: string): RequestHandler {
  return (req, _res, next) => {
    const { remoteAddress, localAddress } = req.socket;
    if (isLoopbackAddress(remoteAddress) && isLoopbackAddress(localAddress)) {
      next();
      return;
    }
    next(
      new OperationOutcomeError('forbidden', `${what} answers this machine only (DEMO_FHIR_PUBLIC=on opens it)`, {
        status: 403,
      }),
    );
  };
}
