#pragma once
// The ZIP container (PKWARE APPNOTE.TXT 6.3) as NPZ files use it: reading
// stored and deflated members, with the ZIP64 extensions (np.savez puts them
// in every local header), and writing stored members. Private to the library;
// npy.cpp puts NPY files in it. Every length an archive claims is checked
// against the bytes there and against the memory limit (deepnet/limits.hpp)
// before anything is read or allocated on its account. Errors name the file,
// the member and the byte.
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace deepnet::io {

struct ZipMember {
  std::string name;
  std::uint64_t flags = 0, method = 0;
  std::uint32_t crc = 0;
  std::uint64_t compressed_size = 0, uncompressed_size = 0, local_header_offset = 0;
};

// Random access to an archive; reads only what is asked for, so listing the
// members or extracting one of a large archive does not read the whole file.
class ZipReader {
 public:
  // Opens the file; Error "PATH: cannot open the file for reading" (or: is a directory).
  explicit ZipReader(const std::string& path);

  // Reads the central directory. False, when the file has no end-of-central-
  // directory record (it is not a zip archive); Error for a damaged one.
  bool read_directory();
  const std::vector<ZipMember>& members() const { return members_; }

  // The member's uncompressed bytes, CRC-checked (stored or deflated).
  std::string extract(const ZipMember& member);

  // The file's first bytes (fewer when it is shorter), to say what it is instead.
  std::string head(std::size_t count);
  const std::string& path() const { return path_; }

 private:
  bool holds(std::uint64_t offset, std::uint64_t length) const {
    return length <= size_ && offset <= size_ - length;
  }
  std::string read(std::uint64_t offset, std::uint64_t length);  // only ranges holds() accepted

  std::string path_;
  std::ifstream in_;
  std::uint64_t size_ = 0;
  std::vector<ZipMember> members_;
};

// Builds an archive of stored (uncompressed) members in memory, with ZIP64
// fields where sizes or offsets need them. A member's bytes are appended by
// the caller straight into the archive, so they are not copied again.
class ZipWriter {
 public:
  // `path` is used in messages only; the caller writes finish()'s bytes.
  explicit ZipWriter(std::string path) : path_(std::move(path)) {}

  // The most bytes a member takes in the archive, headers included (for reserve()).
  static std::uint64_t capacity_of(std::size_t name_size, std::uint64_t size);
  void reserve(std::uint64_t bytes);

  // Starts a member of exactly `size` bytes, which the caller appends to the
  // returned string before calling end_member(). Error when the name does not
  // fit a zip header (more than 65535 bytes).
  std::string& begin_member(const std::string& name, std::uint64_t size);
  void end_member();

  // The archive with its central directory; the writer is spent.
  std::string finish();

 private:
  std::string path_;
  std::string zip_, directory_;
  std::uint64_t count_ = 0;
  // The member being written.
  bool open_ = false;
  std::string name_;
  std::uint64_t size_ = 0, offset_ = 0, flags_ = 0;
  std::size_t crc_at_ = 0, data_at_ = 0;
};

// CRC-32 (zip's, polynomial 0xEDB88320) of any length.
std::uint32_t zip_crc32(std::string_view data);

}  // namespace deepnet::io
