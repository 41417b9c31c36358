declare module "@parcel/watcher/wrapper" {
  export function createWrapper(binding: unknown): unknown;
}

declare module "*.service" {
  const text: string;
  export default text;
}
declare module "*.timer" {
  const text: string;
  export default text;
}
