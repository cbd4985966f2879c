"""Codec language models: transformer core with KV cache, AR / PAR+NAR / Gaussian heads, CTC
draft head and sampling. The model families land with the codec-language-model work; this
package holds no code yet."""
