/**
 * What a simulated device holds (lwm2m-protocol.md §17): Security (0), Server (1), Device (3),
 * Temperature (3303) and Light Control (3311), and how their values move over time — the
 * Device's Current Time every second, a drifting Battery Level, a temperature that wanders
 * around 21 °C with min/max tracking, and the light's On time counting while it is on.
 */

import type { Value } from '../node';
import { Lwm2mPath } from '../path';
import type { ObjectSpec, ObjectTree } from './tree';

/** Security Mode values of `/0/x/2`. */
export const SecurityMode = { PSK: 0, RPK: 1, Certificate: 2, NoSec: 3, CertificateEst: 4 } as const;

/** Short Server ID of the server the simulator is configured with when not bootstrapped. */
export const DEFAULT_SSID = 101;

/** Objects a simulated device holds, with the object version it announces. */
export const SIM_OBJECT_VERSIONS: Readonly<Record<number, string>> = { 0: '1.1', 1: '1.1', 3: '1.1', 3303: '1.1', 3311: '1.0' };

/** Identity strings of the simulated Device object. */
export interface DeviceInfo {
  manufacturer: string;
  modelNumber: string;
  serialNumber: string;
  firmwareVersion: string;
}

export interface InitialObjectsOptions {
  endpoint: string;
  /** The LwM2M server URI (`coap://…`), or the bootstrap server URI when `bootstrap`. */
  serverUri: string;
  bootstrap: boolean;
  lifetime: number;
  /** `U`, or `UQ` for a 1.0 client in queue mode. */
  binding: string;
  /** PSK credentials of that server (Security Mode PSK, identity /0/0/3, key /0/0/5); NoSec without. */
  psk?: { identity: string; key: Uint8Array };
  device?: Partial<DeviceInfo>;
  /** Seconds since 1970. */
  now: number;
}

const EMPTY_BYTES = new Uint8Array(0);

/** A Security instance: NoSec, or PSK with the identity and key. */
export function securityInstance(uri: string, bootstrapServer: boolean, ssid?: number, psk?: { identity: string; key: Uint8Array }): Record<number, Value> {
  const inst: Record<number, Value> = psk
    ? { 0: uri, 1: bootstrapServer, 2: SecurityMode.PSK, 3: new Uint8Array(Buffer.from(psk.identity, 'utf8')), 4: EMPTY_BYTES, 5: new Uint8Array(psk.key) }
    : { 0: uri, 1: bootstrapServer, 2: SecurityMode.NoSec, 3: EMPTY_BYTES, 4: EMPTY_BYTES, 5: EMPTY_BYTES };
  if (ssid !== undefined) inst[10] = ssid;
  if (bootstrapServer) inst[11] = 0;
  return inst;
}

/** A Server instance. Mute Send (23) is false, so Send is allowed. */
export function serverInstance(ssid: number, lifetime: number, binding: string): Record<number, Value> {
  return { 0: ssid, 1: lifetime, 5: 86400, 6: true, 7: binding, 23: false };
}

/** Resource values of a new Temperature instance (also used by Create when the server gives fewer). */
export function temperatureDefaults(now: number, value = 21.5): Record<number, Value> {
  return { 5700: value, 5601: value, 5602: value, 5603: -40, 5604: 85, 5701: 'Cel', 5750: 'Room temperature', 5518: now };
}

/** Resource values of a new Light Control instance. */
export function lightDefaults(): Record<number, Value> {
  return { 5850: false, 5851: 50, 5852: 0, 5706: 'white', 5750: 'Ceiling light' };
}

/** Defaults for an instance created by the server, per object. */
export function instanceDefaults(objectId: number, now: number): Record<number, Value> {
  if (objectId === 3303) return temperatureDefaults(now);
  if (objectId === 3311) return lightDefaults();
  return {};
}

/** The initial objects of a simulated device. */
export function initialObjects(o: InitialObjectsOptions): ObjectSpec[] {
  const dev: DeviceInfo = {
    manufacturer: 'LwM2M Workbench',
    modelNumber: 'Simulated Device',
    serialNumber: `SIM-${o.endpoint}`,
    firmwareVersion: '1.0.0',
    ...o.device,
  };
  const security: ObjectSpec = {
    id: 0,
    version: SIM_OBJECT_VERSIONS[0]!,
    instances: { 0: o.bootstrap ? securityInstance(o.serverUri, true, undefined, o.psk) : securityInstance(o.serverUri, false, DEFAULT_SSID, o.psk) },
  };
  const server: ObjectSpec = {
    id: 1,
    version: SIM_OBJECT_VERSIONS[1]!,
    instances: o.bootstrap ? {} : { 0: serverInstance(DEFAULT_SSID, o.lifetime, o.binding) },
    executables: [4, 8, 9],
  };
  const device: ObjectSpec = {
    id: 3,
    version: SIM_OBJECT_VERSIONS[3]!,
    instances: {
      0: {
        0: dev.manufacturer,
        1: dev.modelNumber,
        2: dev.serialNumber,
        3: dev.firmwareVersion,
        6: { 0: 1, 1: 5 },
        7: { 0: 3800, 1: 5000 },
        8: { 0: 125, 1: 900 },
        9: 100,
        10: 15_000,
        11: { 0: 0 },
        13: o.now,
        14: '+00:00',
        15: 'UTC',
        16: o.binding,
        17: 'Simulator',
        18: '1.0',
        19: '1.0.0',
        20: 0,
        21: 32_000,
      },
    },
    executables: [4, 5, 12],
  };
  const temperature: ObjectSpec = { id: 3303, version: SIM_OBJECT_VERSIONS[3303]!, instances: { 0: temperatureDefaults(o.now) }, executables: [5605] };
  const light: ObjectSpec = { id: 3311, version: SIM_OBJECT_VERSIONS[3311]!, instances: { 0: lightDefaults() } };
  return [security, server, device, temperature, light];
}

const P = (text: string) => Lwm2mPath.parse(text);
const CURRENT_TIME = P('/3/0/13');
const BATTERY = P('/3/0/9');
const BATTERY_STATUS = P('/3/0/20');

/**
 * One step of the simulated physics (called every second by default): Current Time, Battery
 * Level (drifts down by about 1 % a minute, recharges below 10 %), temperatures (a slow sine
 * around 21 °C plus noise, min/max measured tracked), and On time of lights that are on.
 */
export function simulateStep(tree: ObjectTree, nowMs: number, elapsedMs: number, random: () => number): void {
  const now = Math.floor(nowMs / 1000);
  if (tree.hasInstance(3, 0)) {
    tree.set(CURRENT_TIME, now);
    const stored = tree.getNumber(BATTERY) ?? 100;
    const fraction = batteryFraction.get(tree);
    // The fraction carries sub-percent drift; a level set from outside (setValue) wins.
    const battery = fraction !== undefined && Math.round(fraction) === stored ? fraction : stored;
    const charging = tree.getNumber(BATTERY_STATUS) === 1;
    const drift = (elapsedMs / 60_000) * (0.5 + random());
    let next = charging ? battery + (elapsedMs / 1000) * 2 : battery - drift;
    let status = charging ? 1 : 0;
    if (next <= 10) status = 1;
    if (next >= 100) {
      next = 100;
      status = 0;
    }
    // Battery Level is an Integer: keep a fractional reservoir so that small steps add up.
    batteryFraction.set(tree, next);
    const level = Math.round(next);
    if (level !== stored) tree.set(BATTERY, level);
    if (status !== (tree.getNumber(BATTERY_STATUS) ?? 0)) tree.set(BATTERY_STATUS, status);
  }
  for (const iid of tree.instanceIds(3303)) {
    const base = P(`/3303/${iid}`);
    const phase = (nowMs / 1000 / 120) * 2 * Math.PI + iid;
    const value = Math.round((21 + 2 * Math.sin(phase) + (random() - 0.5) * 0.4) * 100) / 100;
    tree.set(base.child(5700), value);
    const min = tree.getNumber(base.child(5601));
    const max = tree.getNumber(base.child(5602));
    if (min === undefined || value < min) tree.set(base.child(5601), value);
    if (max === undefined || value > max) tree.set(base.child(5602), value);
    if (tree.get(base.child(5518)) !== undefined) tree.set(base.child(5518), now);
  }
  for (const iid of tree.instanceIds(3311)) {
    const base = P(`/3311/${iid}`);
    if (tree.get(base.child(5850)) !== true) continue;
    const acc = (onTimeFraction.get(tree)?.get(iid) ?? 0) + elapsedMs;
    const whole = Math.floor(acc / 1000);
    const map = onTimeFraction.get(tree) ?? new Map<number, number>();
    map.set(iid, acc - whole * 1000);
    onTimeFraction.set(tree, map);
    if (whole > 0) tree.set(base.child(5852), (tree.getNumber(base.child(5852)) ?? 0) + whole);
  }
}

/** Fractional state that the integer resources cannot hold, per tree. */
const batteryFraction = new WeakMap<ObjectTree, number>();
const onTimeFraction = new WeakMap<ObjectTree, Map<number, number>>();

/** The battery level with its fraction (for a smooth drift), falling back to the resource. */
export function batteryLevel(tree: ObjectTree): number {
  return batteryFraction.get(tree) ?? tree.getNumber(BATTERY) ?? 100;
}
