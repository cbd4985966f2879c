"""Streaming generation loop, incremental decoding, self-speculative decoding and ONNX export.
The first streaming primitive, chunked codec decoding with left context, lives on
``codec.Codec.decode_chunk``; the generation loop lands with the synthesis API."""
