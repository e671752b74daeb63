import type { FileHandle } from 'node:fs/promises';

/**
 * Reads just enough of an ELF file to tell a CUDA GPU coredump by its content: the ELF header, the
 * section-name string table and the names of PT_NOTE notes. What the CUDA driver writes (checked on the
 * real H200 coredump in test/fixtures/gpu-h200/crash.cuda-coredump.tar.xz): ELF64, OS/ABI 0x33 (CUDA),
 * e_type ET_CORE, e_machine EM_CUDA (190), no program headers, and thousands of sections named
 * `.cudbg.devtbl`, `.cudbg.ctxtbl.dev0`, `.cudbg.relfimg.dev0.ctx0`, `.cudbg.smtbl.dev0`, … with the
 * section table at the end of the file. Every read is bounded; a truncated file is reported, not thrown.
 */
export interface ElfCoreInfo {
  bits: 32 | 64;
  type: number;
  machine: number;
  osabi: number;
  isCore: boolean;
  /** e_machine EM_CUDA or OS/ABI CUDA. */
  cudaHeader: boolean;
  /** Section names starting with `.cudbg` (the CUDA debugger's tables). */
  cudaSections: number;
  /** PT_NOTE note names (bounded), e.g. CORE, LINUX; a CUDA note shows its vendor name. */
  noteNames: string[];
  /** The section table (or the notes) lay past the end of the file: the dump is cut or still being written. */
  truncated: boolean;
}

export const ET_CORE = 4;
export const EM_CUDA = 190;
export const ELFOSABI_CUDA = 0x33;
const SHN_XINDEX = 0xffff;
const MAX_STRTAB = 8 * 1024 * 1024;
const MAX_NOTES_BYTES = 1024 * 1024;
const MAX_PHDRS = 4096;

type Reader = (offset: number, length: number) => Promise<Buffer>;

/** Reads up to `length` bytes at `offset` (fewer at the end of the file). */
export function fileReader(handle: FileHandle): Reader {
  return async (offset, length) => {
    const buf = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buf, 0, length, offset);
    return buf.subarray(0, bytesRead);
  };
}

/** Null when the bytes are not an ELF file at all. */
export async function readElfCore(read: Reader, size: number): Promise<ElfCoreInfo | null> {
  const h = await read(0, 64);
  if (h.length < 52 || h.readUInt32BE(0) !== 0x7f454c46) return null;
  const bits = h[4] === 2 ? 64 : h[4] === 1 ? 32 : null;
  const little = h[5] === 1 ? true : h[5] === 2 ? false : null;
  if (bits === null || little === null || (bits === 64 && h.length < 64)) return null;
  const u16 = (b: Buffer, at: number): number => (little ? b.readUInt16LE(at) : b.readUInt16BE(at));
  const u32 = (b: Buffer, at: number): number => (little ? b.readUInt32LE(at) : b.readUInt32BE(at));
  const word = (b: Buffer, at: number): number => (bits === 64 ? Number(little ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at)) : u32(b, at));
  const type = u16(h, 16);
  const machine = u16(h, 18);
  const info: ElfCoreInfo = { bits, type, machine, osabi: h[7]!, isCore: type === ET_CORE, cudaHeader: machine === EM_CUDA || h[7] === ELFOSABI_CUDA, cudaSections: 0, noteNames: [], truncated: false };

  const phoff = word(h, bits === 64 ? 32 : 28);
  const shoff = word(h, bits === 64 ? 40 : 32);
  const phentsize = u16(h, bits === 64 ? 54 : 42);
  const phnum = u16(h, bits === 64 ? 56 : 44);
  const shentsize = u16(h, bits === 64 ? 58 : 46);
  let shnum = u16(h, bits === 64 ? 60 : 48);
  let shstrndx = u16(h, bits === 64 ? 62 : 50);
  const shdrSize = bits === 64 ? 64 : 40;

  // Entry sizes are fixed by the ELF class; anything else is not a file we read further (and bounds every read).
  if (shoff > 0 && shentsize >= shdrSize && shentsize <= 256) {
    if (shoff + shentsize > size) info.truncated = true;
    else {
      const first = await read(shoff, shdrSize);
      // Extended numbering: the real count and string-table index sit in section 0.
      if (shnum === 0) shnum = bits === 64 ? Number(word(first, 32)) : u32(first, 20);
      if (shstrndx === SHN_XINDEX) shstrndx = u32(first, bits === 64 ? 40 : 24);
      const at = shoff + shstrndx * shentsize;
      if (shstrndx >= shnum || at + shdrSize > size) info.truncated = true;
      else {
        const sh = await read(at, shdrSize);
        const off = word(sh, bits === 64 ? 24 : 16);
        const len = Math.min(word(sh, bits === 64 ? 32 : 20), MAX_STRTAB);
        if (off + len > size) info.truncated = true;
        else info.cudaSections = countCudbgNames(await read(off, len));
      }
    }
  }

  if (phoff > 0 && phnum > 0 && phentsize >= (bits === 64 ? 56 : 32) && phentsize <= 256 && phoff < size) {
    const table = await read(phoff, Math.min(phnum, MAX_PHDRS) * phentsize);
    let budget = MAX_NOTES_BYTES;
    for (let i = 0; i + phentsize <= table.length && budget > 0; i += phentsize) {
      if (u32(table, i) !== 4) continue; // PT_NOTE
      const off = word(table, bits === 64 ? i + 8 : i + 4);
      const len = Math.min(word(table, bits === 64 ? i + 32 : i + 16), budget);
      budget -= len;
      if (off + len > size) {
        info.truncated = true;
        continue;
      }
      for (const name of noteNames(await read(off, len), u32)) if (info.noteNames.length < 64 && !info.noteNames.includes(name)) info.noteNames.push(name);
    }
  }
  return info;
}

/** A core file that carries CUDA state: by its header, its `.cudbg` sections or a CUDA-named note. */
export function isCudaCore(info: ElfCoreInfo): boolean {
  return info.isCore && (info.cudaHeader || info.cudaSections > 0 || info.noteNames.some((n) => /cuda|cudbg|nvidia/i.test(n)));
}

function countCudbgNames(strtab: Buffer): number {
  let n = 0;
  let at = strtab.indexOf('.cudbg');
  while (at >= 0) {
    if (at === 0 || strtab[at - 1] === 0) n++;
    at = strtab.indexOf('.cudbg', at + 6);
  }
  return n;
}

/** Names of the notes in one PT_NOTE segment: namesz, descsz, type, name (4-aligned), desc (4-aligned). */
function noteNames(buf: Buffer, u32: (b: Buffer, at: number) => number): string[] {
  const out: string[] = [];
  const align = (n: number): number => (n + 3) & ~3;
  for (let at = 0; at + 12 <= buf.length && out.length < 256; ) {
    const namesz = u32(buf, at);
    const descsz = u32(buf, at + 4);
    const name = buf.subarray(at + 12, at + 12 + namesz).toString('latin1').replace(/\0+$/, '');
    if (name) out.push(name);
    const next = at + 12 + align(namesz) + align(descsz);
    if (next <= at) break;
    at = next;
  }
  return out;
}
