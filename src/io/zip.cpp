// The ZIP container of NPZ files (zip.hpp): reading stored and deflated
// members with the ZIP64 extensions, writing stored members.
#include "io/zip.hpp"

#include <zlib.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <utility>

#include "deepnet/error.hpp"
#include "deepnet/limits.hpp"
#include "io/byte_text.hpp"

namespace deepnet::io {

namespace {

constexpr std::uint32_t kLocalHeaderSignature = 0x04034b50;    // PK\3\4
constexpr std::uint32_t kCentralHeaderSignature = 0x02014b50;  // PK\1\2
constexpr std::uint32_t kEndSignature = 0x06054b50;            // PK\5\6
constexpr std::uint32_t kZip64EndSignature = 0x06064b50;       // PK\6\6
constexpr std::uint32_t kZip64LocatorSignature = 0x07064b50;   // PK\6\7
constexpr std::size_t kLocalHeaderSize = 30;
constexpr std::size_t kCentralHeaderSize = 46;
constexpr std::size_t kEndSize = 22;
constexpr std::size_t kZip64EndSize = 56;
constexpr std::size_t kZip64LocatorSize = 20;
constexpr std::uint64_t kMax16 = 0xffff;      // 16-bit fields at this value: see the ZIP64 record
constexpr std::uint64_t kMax32 = 0xffffffff;  // 32-bit fields at this value: see the ZIP64 extra field
constexpr std::uint16_t kZip64ExtraId = 0x0001;
// Deflate's densest code expands one compressed byte to at most 1032 bytes;
// a little more allows for tiny members.
constexpr std::uint64_t kMaxDeflateRatio = 1100;
constexpr std::uint16_t kDosDate1980 = (0 << 9) | (1 << 5) | 1;  // 1980-01-01, what np.savez writes too


bool is_ascii(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

// The ZIP64 extended information extra field holds, in this order, those of
// the uncompressed size, compressed size and local header offset whose 32-bit
// field is 0xFFFFFFFF (APPNOTE 4.5.3).
void apply_zip64_extra(std::string_view extra, ZipMember& member, const std::string& context) {
  std::size_t at = 0;
  while (extra.size() - at >= 4) {
    const std::uint64_t id = little_endian(extra, at, 2), length = little_endian(extra, at + 2, 2);
    if (extra.size() - at - 4 < length)
      throw Error(context + "an extra field runs past the end of its record");
    if (id == kZip64ExtraId) {
      const std::string_view field = extra.substr(at + 4, length);
      std::size_t used = 0;
      for (std::uint64_t* value :
           {&member.uncompressed_size, &member.compressed_size, &member.local_header_offset}) {
        if (*value != kMax32) continue;
        if (field.size() - used < 8)
          throw Error(context + "the ZIP64 extra field is too short for the sizes and offset it must hold");
        *value = little_endian(field, used, 8);
        used += 8;
      }
    }
    at += 4 + length;
  }
}

// Raw deflate (no zlib or gzip wrapper), as zip stores it; the output must be
// exactly `expected_size` bytes, and it grows only as data actually inflates.
std::string inflate_member(std::string_view compressed, std::uint64_t expected_size,
                           const std::string& context) {
  z_stream stream{};
  if (inflateInit2(&stream, -MAX_WBITS) != Z_OK) throw Error(context + "cannot start deflate decompression");
  struct EndInflate {
    z_stream* stream;
    ~EndInflate() { inflateEnd(stream); }
  } end_inflate{&stream};
  std::string out;
  std::vector<char> chunk(std::size_t(1) << 16);
  std::size_t offered = 0;
  int status = Z_OK;
  while (status != Z_STREAM_END) {
    if (stream.avail_in == 0 && offered < compressed.size()) {
      const std::size_t n = std::min<std::size_t>(compressed.size() - offered, std::size_t(1) << 30);
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data() + offered));
      stream.avail_in = static_cast<uInt>(n);
      offered += n;
    }
    stream.next_out = reinterpret_cast<Bytef*>(chunk.data());
    stream.avail_out = static_cast<uInt>(chunk.size());
    status = inflate(&stream, Z_NO_FLUSH);
    if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR)
      throw Error(context + "the deflate data is corrupt near compressed byte " +
                  std::to_string(offered - stream.avail_in) + " (" +
                  (stream.msg ? stream.msg : "inflate failed") + ")");
    const std::size_t produced = chunk.size() - stream.avail_out;
    if (produced > expected_size - out.size())
      throw Error(context + "decompresses to more than the " + std::to_string(expected_size) +
                  " bytes the archive records");
    out.append(chunk.data(), produced);
    if (status == Z_BUF_ERROR && stream.avail_in == 0 && offered == compressed.size())
      throw Error(context + "the deflate data is truncated: it ends after " +
                  std::to_string(compressed.size()) + " bytes without its end-of-stream marker");
  }
  if (out.size() != expected_size)
    throw Error(context + "decompresses to " + std::to_string(out.size()) +
                " bytes, but the archive records " + std::to_string(expected_size));
  return out;
}

}  // namespace

std::uint32_t zip_crc32(std::string_view data) {
  uLong crc = crc32(0L, Z_NULL, 0);
  for (std::size_t at = 0; at < data.size();) {
    const std::size_t n = std::min<std::size_t>(data.size() - at, std::size_t(1) << 30);  // uInt lengths
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data.data() + at), static_cast<uInt>(n));
    at += n;
  }
  return static_cast<std::uint32_t>(crc);
}

// ---------------------------------------------------------------------------
// Reading

ZipReader::ZipReader(const std::string& path) : path_(path) {
  std::error_code ignored;
  if (std::filesystem::is_directory(path, ignored)) throw Error(path + ": is a directory, expected a file");
  in_.open(path, std::ios::binary);
  if (!in_) throw Error(path + ": cannot open the file for reading");
  in_.seekg(0, std::ios::end);
  const std::streamoff end = in_.tellg();
  if (end < 0) throw Error(path + ": cannot determine the size of the file");
  size_ = static_cast<std::uint64_t>(end);
}

std::string ZipReader::read(std::uint64_t offset, std::uint64_t length) {
  std::string bytes(static_cast<std::size_t>(length), '\0');
  in_.clear();
  in_.seekg(static_cast<std::streamoff>(offset));
  in_.read(bytes.data(), static_cast<std::streamsize>(length));
  if (!in_ || in_.gcount() != static_cast<std::streamsize>(length))
    throw Error(path_ + ": byte " + std::to_string(offset) + ": read error");
  return bytes;
}

std::string ZipReader::head(std::size_t count) { return read(0, std::min<std::uint64_t>(count, size_)); }

bool ZipReader::read_directory() {
  const std::string& path = path_;
  // The end record is the last 22 bytes, followed by a comment of at most 65535 bytes.
  const std::uint64_t tail_size = std::min<std::uint64_t>(size_, kEndSize + kMax16);
  const std::uint64_t tail_start = size_ - tail_size;
  const std::string tail = read(tail_start, tail_size);
  std::optional<std::size_t> end_in_tail;
  for (std::size_t k = tail.size() >= kEndSize ? tail.size() - kEndSize + 1 : 0; k-- > 0;) {
    if (little_endian(tail, k, 4) == kEndSignature &&
        little_endian(tail, k + 20, 2) <= tail.size() - kEndSize - k) {
      end_in_tail = k;
      break;
    }
  }
  if (!end_in_tail) return false;
  const std::uint64_t end_offset = tail_start + *end_in_tail;
  const std::string_view end = std::string_view(tail).substr(*end_in_tail, kEndSize);
  std::uint64_t disk = little_endian(end, 4, 2), directory_disk = little_endian(end, 6, 2);
  std::uint64_t entries_here = little_endian(end, 8, 2), entries = little_endian(end, 10, 2);
  std::uint64_t directory_size = little_endian(end, 12, 4), directory_offset = little_endian(end, 16, 4);

  // A ZIP64 locator right before the end record points to the 64-bit end record.
  if (end_offset >= kZip64LocatorSize) {
    const std::uint64_t locator_offset = end_offset - kZip64LocatorSize;
    const std::string locator = read(locator_offset, kZip64LocatorSize);
    if (little_endian(locator, 0, 4) == kZip64LocatorSignature) {
      const std::uint64_t record_offset = little_endian(locator, 8, 8);
      if (!holds(record_offset, kZip64EndSize))
        throw Error(path + ": byte " + std::to_string(locator_offset + 8) +
                    ": the ZIP64 locator points to byte " + std::to_string(record_offset) +
                    ", past the end of the file (" + std::to_string(size_) + " bytes)");
      const std::string record = read(record_offset, kZip64EndSize);
      if (little_endian(record, 0, 4) != kZip64EndSignature)
        throw Error(path + ": byte " + std::to_string(record_offset) +
                    ": expected the ZIP64 end-of-central-directory record (PK\\6\\6)");
      disk = little_endian(record, 16, 4);
      directory_disk = little_endian(record, 20, 4);
      entries_here = little_endian(record, 24, 8);
      entries = little_endian(record, 32, 8);
      directory_size = little_endian(record, 40, 8);
      directory_offset = little_endian(record, 48, 8);
    }
  }
  const std::string at_end = path + ": byte " + std::to_string(end_offset) + ": ";
  if (disk != 0 || directory_disk != 0 || entries_here != entries)
    throw Error(at_end + "a zip archive split over several files, which is not supported");
  if (!holds(directory_offset, directory_size))
    throw Error(at_end + "the central directory (" + std::to_string(directory_size) + " bytes at byte " +
                std::to_string(directory_offset) + ") lies past the end of the file (" +
                std::to_string(size_) + " bytes)");
  if (entries > directory_size / kCentralHeaderSize)
    throw Error(at_end + "the archive claims " + std::to_string(entries) + " members, more than its " +
                std::to_string(directory_size) + "-byte central directory can hold");

  const std::string directory = read(directory_offset, directory_size);
  std::vector<ZipMember> members;
  members.reserve(static_cast<std::size_t>(entries));  // bounded by the directory's size, checked above
  std::size_t at = 0;
  for (std::uint64_t k = 0; k < entries; ++k) {
    const std::string context = path + ": byte " + std::to_string(directory_offset + at) +
                                ": central directory entry " + std::to_string(k + 1) + ": ";
    if (directory.size() - at < kCentralHeaderSize ||
        little_endian(directory, at, 4) != kCentralHeaderSignature)
      throw Error(context + "expected a central directory header (PK\\1\\2)");
    ZipMember member;
    member.flags = little_endian(directory, at + 8, 2);
    member.method = little_endian(directory, at + 10, 2);
    member.crc = static_cast<std::uint32_t>(little_endian(directory, at + 16, 4));
    member.compressed_size = little_endian(directory, at + 20, 4);
    member.uncompressed_size = little_endian(directory, at + 24, 4);
    const std::size_t name_length = little_endian(directory, at + 28, 2);
    const std::size_t extra_length = little_endian(directory, at + 30, 2);
    const std::size_t comment_length = little_endian(directory, at + 32, 2);
    member.local_header_offset = little_endian(directory, at + 42, 4);
    if (directory.size() - at - kCentralHeaderSize < name_length + extra_length + comment_length)
      throw Error(context + "the name, extra field and comment run past the end of the central directory");
    member.name = directory.substr(at + kCentralHeaderSize, name_length);
    apply_zip64_extra(std::string_view(directory).substr(at + kCentralHeaderSize + name_length, extra_length),
                      member, context);
    members.push_back(std::move(member));
    at += kCentralHeaderSize + name_length + extra_length + comment_length;
  }
  members_ = std::move(members);
  return true;
}

std::string ZipReader::extract(const ZipMember& member) {
  const std::string context = path_ + ": member '" + printable(member.name) + "': ";
  const auto at = [&](std::uint64_t offset) { return context + "byte " + std::to_string(offset) + ": "; };
  if (member.flags & 1) throw Error(context + "is encrypted; expected an unencrypted NPZ");
  if (member.method != 0 && member.method != 8)
    throw Error(context + "compression method " + std::to_string(member.method) +
                " is not supported; expected 0 (stored) or 8 (deflate)");
  const std::uint64_t header_offset = member.local_header_offset;
  if (!holds(header_offset, kLocalHeaderSize))
    throw Error(at(header_offset) + "the local header lies past the end of the file (" +
                std::to_string(size_) + " bytes)");
  const std::string local = read(header_offset, kLocalHeaderSize);
  if (little_endian(local, 0, 4) != kLocalHeaderSignature)
    throw Error(at(header_offset) + "expected a local file header (PK\\3\\4)");
  const std::uint64_t name_offset = header_offset + kLocalHeaderSize;
  const std::uint64_t name_length = little_endian(local, 26, 2), extra_length = little_endian(local, 28, 2);
  if (!holds(name_offset, name_length + extra_length))
    throw Error(at(name_offset) + "the local header's name and extra field run past the end of the file");
  if (read(name_offset, name_length) != member.name)
    throw Error(at(name_offset) + "the local header names another file than the central directory does");
  const std::uint64_t data_offset = name_offset + name_length + extra_length;
  if (!holds(data_offset, member.compressed_size))
    throw Error(at(data_offset) + "the member's " + std::to_string(member.compressed_size) +
                " bytes of data run past the end of the file (" + std::to_string(size_) + " bytes)");

  // What the member can hold: stored, its size; deflated, at most about 1032
  // times its compressed size (the densest deflate code); then the memory limit.
  if (member.method == 8 &&
      member.uncompressed_size / kMaxDeflateRatio > member.compressed_size + 1)
    throw Error(context + "the archive records " + std::to_string(member.uncompressed_size) +
                " bytes uncompressed (" + format_bytes(member.uncompressed_size) + ") from " +
                std::to_string(member.compressed_size) +
                " compressed bytes, more than deflate can expand them to; the file is corrupt");
  check_memory(member.uncompressed_size,
               context + "the archive records " + std::to_string(member.uncompressed_size) +
                   " bytes uncompressed (", ")");
  std::string data;
  if (member.method == 0) {
    if (member.compressed_size != member.uncompressed_size)
      throw Error(context + "stored uncompressed, yet the archive records " +
                  std::to_string(member.compressed_size) + " bytes stored and " +
                  std::to_string(member.uncompressed_size) + " bytes of content");
    data = read(data_offset, member.compressed_size);
  } else {
    data = inflate_member(read(data_offset, member.compressed_size), member.uncompressed_size, context);
  }
  const std::uint32_t crc = zip_crc32(data);
  if (crc != member.crc)
    throw Error(context + "CRC-32 mismatch: the archive records " + hex32(member.crc) + ", the data gives " +
                hex32(crc) + "; the file is corrupt");
  return data;
}

// ---------------------------------------------------------------------------
// Writing

std::uint64_t ZipWriter::capacity_of(std::size_t name_size, std::uint64_t size) {
  // both headers with their largest ZIP64 fields, the name twice, and the data
  return kLocalHeaderSize + 20 + kCentralHeaderSize + 28 + 2 * static_cast<std::uint64_t>(name_size) + size;
}

void ZipWriter::reserve(std::uint64_t bytes) {
  zip_.reserve(static_cast<std::size_t>(bytes + kZip64EndSize + kZip64LocatorSize + kEndSize));
}

std::string& ZipWriter::begin_member(const std::string& name, std::uint64_t size) {
  if (open_) end_member();
  if (name.size() > kMax16)
    throw Error(path_ + ": member '" + printable(name) + "': the name is longer than a zip member name can be (65535 bytes)");
  open_ = true;
  name_ = name;
  size_ = size;
  offset_ = zip_.size();
  flags_ = is_ascii(name) ? 0 : 0x800;  // bit 11: the name is UTF-8

  const bool local_zip64 = size >= kMax32;
  append_little_endian(zip_, kLocalHeaderSignature, 4);
  append_little_endian(zip_, local_zip64 ? 45 : 20, 2);  // version needed: 4.5 for ZIP64, else 2.0
  append_little_endian(zip_, flags_, 2);
  append_little_endian(zip_, 0, 2);  // method: stored
  append_little_endian(zip_, 0, 2);  // time 00:00
  append_little_endian(zip_, kDosDate1980, 2);
  crc_at_ = zip_.size();
  append_little_endian(zip_, 0, 4);  // the CRC-32, once the data is written
  append_little_endian(zip_, local_zip64 ? kMax32 : size, 4);
  append_little_endian(zip_, local_zip64 ? kMax32 : size, 4);
  append_little_endian(zip_, name.size(), 2);
  append_little_endian(zip_, local_zip64 ? 20 : 0, 2);
  zip_ += name;
  if (local_zip64) {  // a local header's ZIP64 field holds both sizes (APPNOTE 4.5.3)
    append_little_endian(zip_, kZip64ExtraId, 2);
    append_little_endian(zip_, 16, 2);
    append_little_endian(zip_, size, 8);
    append_little_endian(zip_, size, 8);
  }
  data_at_ = zip_.size();
  return zip_;
}

void ZipWriter::end_member() {
  if (!open_) return;
  open_ = false;
  const std::uint64_t written = zip_.size() - data_at_;
  if (written != size_)
    throw Error(path_ + ": member '" + printable(name_) + "': " + std::to_string(written) +
                " bytes written, but its header promises " + std::to_string(size_));
  const std::uint32_t crc = zip_crc32(std::string_view(zip_).substr(data_at_));
  for (std::size_t k = 0; k < 4; ++k) zip_[crc_at_ + k] = static_cast<char>((crc >> (8 * k)) & 0xff);

  std::string extra;
  if (size_ >= kMax32) {
    append_little_endian(extra, size_, 8);
    append_little_endian(extra, size_, 8);
  }
  if (offset_ >= kMax32) append_little_endian(extra, offset_, 8);
  if (!extra.empty()) {
    std::string field;
    append_little_endian(field, kZip64ExtraId, 2);
    append_little_endian(field, extra.size(), 2);
    extra = field + extra;
  }
  const std::uint64_t version = extra.empty() ? 20 : 45;
  append_little_endian(directory_, kCentralHeaderSignature, 4);
  append_little_endian(directory_, (3 << 8) | version, 2);  // made by: Unix
  append_little_endian(directory_, version, 2);
  append_little_endian(directory_, flags_, 2);
  append_little_endian(directory_, 0, 2);  // method: stored
  append_little_endian(directory_, 0, 2);
  append_little_endian(directory_, kDosDate1980, 2);
  append_little_endian(directory_, crc, 4);
  append_little_endian(directory_, std::min(size_, kMax32), 4);
  append_little_endian(directory_, std::min(size_, kMax32), 4);
  append_little_endian(directory_, name_.size(), 2);
  append_little_endian(directory_, extra.size(), 2);
  append_little_endian(directory_, 0, 2);                             // comment length
  append_little_endian(directory_, 0, 2);                             // disk
  append_little_endian(directory_, 0, 2);                             // internal attributes
  append_little_endian(directory_, std::uint64_t{0100644} << 16, 4);  // external: a regular file, rw-r--r--
  append_little_endian(directory_, std::min(offset_, kMax32), 4);
  directory_ += name_;
  directory_ += extra;
  ++count_;
}

std::string ZipWriter::finish() {
  end_member();
  std::string& zip = zip_;
  const std::uint64_t directory_offset = zip.size(), directory_size = directory_.size(), count = count_;
  zip += directory_;
  directory_.clear();
  if (count >= kMax16 || directory_size >= kMax32 || directory_offset >= kMax32) {
    const std::uint64_t record_offset = zip.size();
    append_little_endian(zip, kZip64EndSignature, 4);
    append_little_endian(zip, kZip64EndSize - 12, 8);  // the record's size after this field
    append_little_endian(zip, (3 << 8) | 45, 2);
    append_little_endian(zip, 45, 2);
    append_little_endian(zip, 0, 4);  // this disk
    append_little_endian(zip, 0, 4);  // the directory's disk
    append_little_endian(zip, count, 8);
    append_little_endian(zip, count, 8);
    append_little_endian(zip, directory_size, 8);
    append_little_endian(zip, directory_offset, 8);
    append_little_endian(zip, kZip64LocatorSignature, 4);
    append_little_endian(zip, 0, 4);  // the ZIP64 record's disk
    append_little_endian(zip, record_offset, 8);
    append_little_endian(zip, 1, 4);  // disks in all
  }
  append_little_endian(zip, kEndSignature, 4);
  append_little_endian(zip, 0, 2);  // this disk
  append_little_endian(zip, 0, 2);  // the directory's disk
  append_little_endian(zip, std::min(count, kMax16), 2);
  append_little_endian(zip, std::min(count, kMax16), 2);
  append_little_endian(zip, std::min(directory_size, kMax32), 4);
  append_little_endian(zip, std::min(directory_offset, kMax32), 4);
  append_little_endian(zip, 0, 2);  // comment length
  return std::move(zip_);
}

}  // namespace deepnet::io
