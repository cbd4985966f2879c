"""The voice library: ``POST /v1/voices`` (multipart: ``file``, optional ``transcript`` and
``name``), ``GET /v1/voices``, ``GET`` and ``DELETE /v1/voices/{id}``.

An upload is decoded (any format libsndfile reads), checked against the size and length limits,
encoded once on the model thread, and stored; synthesis then loads the stored ``Voice``.
"""

from __future__ import annotations

import io
from typing import Annotated

import numpy as np
import soundfile as sf
from fastapi import APIRouter, File, Form, Request, UploadFile

from palette.tts.server.errors import APIError, input_error
from palette.tts.server.scheduler import QueueFull
from palette.tts.server.state import ServerState
from palette.tts.server.voices import VoiceNotFound

router = APIRouter()


def decode_upload(data: bytes, max_seconds: float) -> tuple[np.ndarray, int]:
    """Uploaded bytes -> mono float32 ``[S]`` and its rate (400 if unreadable or too long)."""
    if not data:
        raise APIError(400, "the uploaded file is empty", param="file")
    try:
        wav, sr = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        raise APIError(
            400,
            f"could not read the uploaded audio ({err}); send wav, flac, ogg or mp3",
            param="file",
        ) from None
    seconds = len(wav) / sr
    if seconds > max_seconds:
        raise APIError(
            400, f"the prompt is {seconds:.1f} s long; the limit is {max_seconds:g} s", param="file"
        )
    return wav.mean(axis=1), int(sr)


@router.post("/v1/voices")
async def add_voice(
    request: Request,
    file: Annotated[UploadFile, File()],
    transcript: Annotated[str | None, Form()] = None,
    name: Annotated[str | None, Form()] = None,
):
    state: ServerState = request.app.state.palette
    limit = state.options.max_upload_bytes
    data = await file.read(limit + 1)
    if len(data) > limit:
        raise APIError(413, f"the upload is larger than {limit} bytes", param="file")
    wav, sr = decode_upload(data, state.options.max_prompt_seconds)
    text = (transcript or "").strip() or None
    synth = state.synth
    try:
        voice = await state.scheduler.call(
            lambda: synth.encode_voice((wav, sr), text),
            name="encode voice",
            timeout=state.options.max_wait,
        )
    except QueueFull as err:
        raise APIError(
            429,
            f"too many requests in progress ({err}); retry later",
            retry_after=state.options.retry_after,
        ) from None
    except TimeoutError:
        raise APIError(
            503, "the server is busy; retry later", retry_after=state.options.retry_after
        ) from None
    except (ValueError, FileNotFoundError) as err:
        raise input_error(err, "file") from None
    label = (name or "").strip() or (file.filename or "voice").rsplit(".", 1)[0]
    info = state.voices.add(voice, label[:100], len(wav) / sr)
    return info.to_json()


@router.get("/v1/voices")
async def list_voices(request: Request):
    state: ServerState = request.app.state.palette
    return {"object": "list", "data": [v.to_json() for v in state.voices.list()]}


@router.get("/v1/voices/{voice_id}")
async def get_voice(voice_id: str, request: Request):
    try:
        return request.app.state.palette.voices.info(voice_id).to_json()
    except VoiceNotFound as err:
        raise APIError(404, err.args[0], param="voice_id") from None


@router.delete("/v1/voices/{voice_id}")
async def delete_voice(voice_id: str, request: Request):
    try:
        request.app.state.palette.voices.delete(voice_id)
    except VoiceNotFound as err:
        raise APIError(404, err.args[0], param="voice_id") from None
    return {"id": voice_id, "object": "voice.deleted", "deleted": True}
