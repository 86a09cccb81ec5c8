/** The simulated LwM2M client (device simulator): one client, or N from one process. */
export { SimulatedClient, parseServerUri, SIM_READ_FORMATS, type SimPsk, type SimulatedClientOptions, type SimulatedClientState, type SimObservationInfo, type ServerAddress } from './client';
export { Simulation, startSimulation, simulationEndpoints, type SimulationOptions, type SimulationEvents } from './simulation';
export type { SimEvent, SimEventBody, SimEventOf, SimEventType, SimulatedClientEvents, ObservationEndReason, UpdateReason } from './events';
export { ObjectTree, SimError, type ObjectSpec, type StoredValue } from './tree';
export { AttributeStore, parseAttributeQuery, type Attributes, type AttributeName } from './attributes';
export { initialObjects, SecurityMode, DEFAULT_SSID, SIM_OBJECT_VERSIONS, type DeviceInfo } from './objects';
