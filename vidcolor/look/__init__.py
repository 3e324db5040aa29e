"""Colourist controls: how a render looks, beyond what the network predicts.

A :class:`vidcolor.specs.LookSpec` names the controls; ``LookSpec.build()`` makes the
:class:`~vidcolor.look.chain.Look` that the one frame chain (``vidcolor.framecolor``) and the
stills path call at fixed points, in a fixed order:

1. ``negative``: the input's luma is inverted before anything else (it is then the input);
2. the network, then the temporal stage;
3. chroma, on the predicted ab (the luma is untouched): reference palette, saturation,
   warmth and tint (``chroma``, ``reference``);
4. the opt-in ``--enhance`` steps, every one of which changes the luma: tonemap, clahe,
   contrast, brightness, power, log, sharpen, then rgb (``steps``, ``enhance``).

``sheet`` and ``review`` are the two outputs for looking before a long render: a contact
sheet of frames spread over a film and gray | colour frames side by side.

This package imports nothing heavy, so the command's parser can use ``steps``.
"""
