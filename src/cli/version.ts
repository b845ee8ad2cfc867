// The version, kept here so `interlock --version` needs no file reads.
export const VERSION = '0.1.0';
