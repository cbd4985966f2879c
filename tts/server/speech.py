"""``POST /v1/audio/speech``: OpenAI's speech endpoint, streamed as frames are generated.

Body (JSON): ``model``, ``input``, ``voice`` (an id from ``/v1/voices``), ``response_format``
(pcm | wav | flac | mp3 | opus; default mp3 as in OpenAI's API), ``speed`` (0.25-4.0), and any
field of ``SynthesisOptions`` as an extra field (``seed``, ``temperature``, ``family``, ...).

``pcm`` (signed 16-bit little-endian mono at the model rate, ``X-Sample-Rate`` header) and
``wav`` go out chunk by chunk (chunked transfer); the other formats once the text is spoken.
The response starts only when the first chunk exists, so an input the model rejects is still a
400, not a broken stream.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from palette.tts.server.errors import APIError, input_error
from palette.tts.server.formats import (
    OPENAI_ONLY,
    available_formats,
    encode_whole,
    pcm16,
    wav_header,
)
from palette.tts.server.scheduler import Job, QueueFull
from palette.tts.server.state import ServerState
from palette.tts.server.voices import VoiceNotFound

log = logging.getLogger("palette.server")
router = APIRouter()
SERVER_FIELDS = {"speed"}  # SynthesisOptions fields set from OpenAI's own fields
POLL = 0.25  # seconds between disconnect checks while a request waits for its first chunk


class SpeechRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str
    input: str
    voice: str | dict
    response_format: str = "mp3"
    speed: float = Field(1.0, ge=0.25, le=4.0)
    stream_format: str | None = None  # OpenAI's "audio" (the only one served) or "sse"
    instructions: str | None = None  # OpenAI's style prompt: not supported, ignored


@functools.cache
def _options_adapter():
    from palette.tts.options import SynthesisOptions

    return TypeAdapter(SynthesisOptions)


def synthesis_options(req: SpeechRequest):
    """OpenAI fields + our extra fields -> ``SynthesisOptions`` (400 naming a bad field)."""
    from palette.tts.options import SynthesisOptions

    extra = dict(req.model_extra or {})
    fields = {f.name for f in dataclasses.fields(SynthesisOptions)} - SERVER_FIELDS
    unknown = sorted(set(extra) - fields)
    if unknown:
        raise APIError(
            400,
            f"unknown field(s) {', '.join(unknown)}; extra fields may be: "
            f"{', '.join(sorted(fields))}",
            param=unknown[0],
        )
    try:
        return _options_adapter().validate_python({**extra, "speed": req.speed})
    except ValidationError as err:
        first = err.errors()[0]
        param = ".".join(str(p) for p in first["loc"])
        raise APIError(400, f"{param}: {first['msg']}", param=param) from None


def check_request(state: ServerState, req: SpeechRequest) -> tuple[str, object]:
    """-> (format name, Voice), or raise a 400 naming the problem."""
    if not state.accepts_model(req.model):
        raise APIError(
            400,
            f"unknown model {req.model!r}: this server serves {state.model_id!r} (GET /v1/models)",
            param="model",
        )
    if not req.input.strip():
        raise APIError(400, "input is empty: give the text to speak", param="input")
    limit = state.options.max_input_chars
    if len(req.input) > limit:
        raise APIError(
            400, f"input has {len(req.input)} characters; the limit is {limit}", param="input"
        )
    formats = available_formats()
    if req.response_format not in formats:
        why = " (libsndfile cannot write it)" if req.response_format in OPENAI_ONLY else ""
        raise APIError(
            400,
            f"response_format {req.response_format!r} is not supported{why}; "
            f"choose one of {', '.join(formats)}",
            param="response_format",
        )
    if req.stream_format not in (None, "audio"):
        raise APIError(
            400,
            f"stream_format {req.stream_format!r} is not supported; use 'audio'",
            param="stream_format",
        )
    voice_id = req.voice.get("id") if isinstance(req.voice, dict) else req.voice
    try:
        voice = state.voices.load(voice_id)
    except VoiceNotFound:
        raise APIError(
            400,
            f"unknown voice {voice_id!r}: upload one with POST /v1/voices "
            "(GET /v1/voices lists them)",
            param="voice",
        ) from None
    except ValueError as err:
        raise input_error(err, "voice") from None
    return req.response_format, voice


async def first_item(job: Job, request: Request, max_wait: float, retry_after: int):
    """Wait for a job's first chunk; 503 if it did not start within ``max_wait`` seconds,
    None if the client went away meanwhile (the job is cancelled)."""
    deadline = time.monotonic() + max_wait
    while True:
        try:
            return await job.next(timeout=POLL)
        except TimeoutError:
            if await request.is_disconnected():
                job.cancel()
                return None
            if job.started is None and time.monotonic() > deadline:
                job.cancel()
                raise APIError(
                    503,
                    f"the server is busy: no turn within {max_wait:g} s",
                    retry_after=retry_after,
                ) from None


@router.post("/v1/audio/speech")
async def speech(req: SpeechRequest, request: Request):
    state: ServerState = request.app.state.palette
    fmt_name, voice = check_request(state, req)
    options = synthesis_options(req)
    if req.instructions:
        log.info("%s: instructions are not supported and were ignored", request.state.request_id)
    synth, text, rate = state.synth, req.input, state.synth.sample_rate
    try:
        job = state.scheduler.submit(
            lambda: synth.stream(text, voice, options=options),
            name=f"speech {request.state.request_id}",
        )
    except QueueFull as err:
        raise APIError(
            429,
            f"too many requests in progress ({err}); retry later",
            retry_after=state.options.retry_after,
        ) from None
    opts = state.options
    try:
        first = await first_item(job, request, opts.max_wait, opts.retry_after)
    except StopAsyncIteration:
        first = np.zeros(0, dtype=np.float32)
    except APIError:
        raise
    except (ValueError, FileNotFoundError, KeyError) as err:
        raise input_error(err) from None
    if first is None:
        return Response(status_code=499)
    fmt = available_formats()[fmt_name]
    headers = {"X-Sample-Rate": str(rate)}
    if fmt.streams:
        body = stream_body(job, first, fmt_name == "wav", rate, request.state.request_id)
        return StreamingResponse(body, media_type=fmt.media_type, headers=headers)
    samples = await collect(job, first)
    data = await asyncio.to_thread(encode_whole, fmt, samples, rate)
    return Response(data, media_type=fmt.media_type, headers=headers)


async def stream_body(job: Job, first: np.ndarray, wav: bool, rate: int, rid: str):
    """Bytes as chunks arrive; the job is cancelled however the stream ends (a client that
    disconnects cancels this generator, which stops its generation)."""
    start, samples, done = time.monotonic(), len(first), False
    try:
        yield (wav_header(rate) if wav else b"") + pcm16(first)
        while True:
            try:
                chunk = await job.next()
            except StopAsyncIteration:
                break
            samples += len(chunk)
            yield pcm16(chunk)
        done = True
        log.info(
            "%s: streamed %.2f s of audio in %.2f s", rid, samples / rate, time.monotonic() - start
        )
    except Exception:
        done = True
        log.exception("%s: generation failed mid-stream; the audio is cut short", rid)
    finally:
        if not done:
            log.info(
                "%s: client went away after %.2f s of audio; generation stopped",
                rid,
                samples / rate,
            )
        job.cancel()


async def collect(job: Job, first: np.ndarray) -> np.ndarray:
    chunks = [first]
    try:
        while True:
            try:
                chunks.append(await job.next())
            except StopAsyncIteration:
                return np.concatenate(chunks)
            except (ValueError, FileNotFoundError, KeyError) as err:
                raise input_error(err) from None
    finally:
        job.cancel()
