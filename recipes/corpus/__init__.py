"""The mini-LibriTTS corpus builder: voices, sentences, plan, rendering, LibriTTS layout."""
