// Node's files, stdin and clock for the wasm CLI, failing with the texts the native CLI prints
// (Rust's std::io::Error: "No such file or directory (os error 2)").
import { readFileSync, writeFileSync } from "node:fs";

// strerror(3) on Linux for the errors a file read or write meets.
const OS_ERRORS = {
  EPERM: [1, "Operation not permitted"],
  ENOENT: [2, "No such file or directory"],
  EIO: [5, "Input/output error"],
  EACCES: [13, "Permission denied"],
  EBUSY: [16, "Device or resource busy"],
  EEXIST: [17, "File exists"],
  ENOTDIR: [20, "Not a directory"],
  EISDIR: [21, "Is a directory"],
  EINVAL: [22, "Invalid argument"],
  EMFILE: [24, "Too many open files"],
  EFBIG: [27, "File too large"],
  ENOSPC: [28, "No space left on device"],
  EROFS: [30, "Read-only file system"],
  ENAMETOOLONG: [36, "File name too long"],
  ELOOP: [40, "Too many levels of symbolic links"],
};

/** The text Rust's std::io::Error prints for a Node fs error. */
export function ioMessage(error) {
  const known = OS_ERRORS[error.code];
  if (known) return `${known[1]} (os error ${known[0]})`;
  if (typeof error.errno === "number") return `${error.message} (os error ${-error.errno})`;
  return String(error.message ?? error);
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** A CliHost on Node's fs, relative paths against the current directory. */
export const nodeHost = {
  readFile(path) {
    try {
      return readFileSync(path);
    } catch (e) {
      throw ioMessage(e);
    }
  },
  readStdin() {
    let bytes;
    try {
      bytes = readFileSync(0);
    } catch (e) {
      if (e.code === "EAGAIN" || e.code === "EOF") return "";
      throw ioMessage(e);
    }
    try {
      return utf8.decode(bytes);
    } catch {
      throw "stream did not contain valid UTF-8";
    }
  },
  writeFile(path, bytes) {
    try {
      writeFileSync(path, bytes);
    } catch (e) {
      throw ioMessage(e);
    }
  },
  nowMillis() {
    return Date.now();
  },
};
