#pragma once
// The model and checkpoint files (io room; docs/model-format.md): magic bytes,
// format version, explicit little-endian encoding, and a CRC-32C over
// everything. The types they hold are the train room's: Model
// (deepnet/model.hpp) and Checkpoint (deepnet/checkpoint.hpp).
#include <string>

#include "deepnet/checkpoint.hpp"
#include "deepnet/model.hpp"

namespace deepnet {

// Writes atomically (temporary file in the same folder, fsync, rename): a crash
// leaves the old file or the new one. Throws Error naming the path; refuses
// non-finite parameters.
void save_model(const std::string& path, const Model& model);

// Reads and verifies a model file. Throws Error naming the file and the byte
// offset or field: wrong magic, newer format version, truncation, checksum
// mismatch, impossible sizes (checked before anything is allocated).
Model load_model(const std::string& path);
Model parse_model(const std::string& bytes, const std::string& name);
std::string serialize_model(const Model& model);

// Checkpoint files: the same frame as the model file with the magic
// 'DEEPNETC'; the model inside is a complete model file.
std::string serialize_checkpoint(const Checkpoint& checkpoint);
Checkpoint parse_checkpoint(const std::string& bytes, const std::string& name);
void save_checkpoint(const std::string& path, const Checkpoint& checkpoint);  // atomic
Checkpoint load_checkpoint(const std::string& path);

}  // namespace deepnet
