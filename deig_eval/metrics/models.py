"""The judging models, from local folders in the transformers format, on GPU when there is one.

* :class:`Detector` - GroundingDINO (``AutoModelForZeroShotObjectDetection``): boxes for a phrase,
  box and text thresholds 0.25, then NMS at 0.8, as the official evaluation;
* :class:`Segmenter` - SAM (``SamModel``): the best of three masks for a box prompt;
* :class:`ClipScorer` - CLIP (``CLIPModel``, ViT-L/14 in the paper): mean image-text logit, of a whole
  image with its caption or of an instance's crop with its description in the 80 ImageNet templates; and
  unit-length embeddings for InstDiff-Bench's cosines and zero-shot attribute choice;
* :class:`Judge` - Qwen2.5-VL (``Qwen2_5_VLForConditionalGeneration``): a yes/no question about a crop.

Needs the extras in ``deig_eval/requirements-eval.txt`` (transformers, Pillow; ComfyUI's environment has
them); nothing downloads: a folder that is not there is an error naming it.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from .boxes import nms, pixel_crop_box
from .clip_templates import filled_templates

log = logging.getLogger(__name__)
BOX_THRESHOLD = 0.25
TEXT_THRESHOLD = 0.25
JUDGE_QUESTION = ("Is this image consistent with the description '{}'? Reply with one word: "
                  "'yes' if it is, 'no' if it is not.")


def pick_device(device: str | None = None) -> torch.device:
    return torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))


def _folder(path, what: str) -> str:
    p = Path(path) if path else None
    if p is None or not p.is_dir():
        raise FileNotFoundError(f"{what}: model folder {path!r} does not exist (download it once, e.g. with "
                                f"`hf download REPO --local-dir FOLDER`, and name the folder)")
    return str(p)


def _processor_and_model(processor_class, model_class, path, what: str, device):
    """A transformers processor and model (in eval mode, on ``device``) from the local folder ``path``."""
    path = _folder(path, what)
    return processor_class.from_pretrained(path), model_class.from_pretrained(path).to(device).eval()


class Detector:
    def __init__(self, path, device):
        from transformers import AutoModelForZeroShotObjectDetection, AutoProcessor

        self.device = device
        self.processor, self.model = _processor_and_model(AutoProcessor, AutoModelForZeroShotObjectDetection, path,
                                                          "GroundingDINO", device)

    @torch.no_grad()
    def detect(self, image, phrase: str) -> np.ndarray:
        """Boxes (N, 4) in pixels (x1, y1, x2, y2) where the model finds ``phrase``."""
        text = phrase.strip().lower().rstrip(".") + "."
        inputs = self.processor(images=image, text=text, return_tensors="pt").to(self.device)
        outputs = self.model(**inputs)
        result = self.processor.post_process_grounded_object_detection(
            outputs, inputs["input_ids"], threshold=BOX_THRESHOLD, text_threshold=TEXT_THRESHOLD,
            target_sizes=[(image.height, image.width)])[0]
        boxes = result["boxes"].float().cpu().numpy().reshape(-1, 4)
        return boxes[nms(boxes, result["scores"].float().cpu().numpy())] if len(boxes) else boxes


class Segmenter:
    def __init__(self, path, device):
        from transformers import SamModel, SamProcessor

        self.device = device
        self.processor, self.model = _processor_and_model(SamProcessor, SamModel, path, "SAM", device)

    @torch.no_grad()
    def segment(self, image, box) -> np.ndarray:
        """Boolean (H, W) mask of the object in ``box`` (pixels)."""
        inputs = self.processor(image, input_boxes=[[[float(v) for v in box]]], return_tensors="pt").to(self.device)
        outputs = self.model(**inputs, multimask_output=True)
        masks = self.processor.image_processor.post_process_masks(
            outputs.pred_masks.cpu(), inputs["original_sizes"].cpu(), inputs["reshaped_input_sizes"].cpu())[0]
        best = int(outputs.iou_scores[0, 0].argmax())
        return masks[0, best].numpy().astype(bool)


def _unit(x: torch.Tensor) -> torch.Tensor:
    return x / torch.linalg.norm(x, dim=-1, keepdim=True)


class ClipScorer:
    def __init__(self, path, device):
        from transformers import CLIPModel, CLIPProcessor

        self.device = device
        self.processor, self.model = _processor_and_model(CLIPProcessor, CLIPModel, path, "CLIP", device)

    @torch.no_grad()
    def score(self, image, texts: list[str]) -> float:
        """Mean of ``logits_per_image`` (logit scale x cosine) of ``image`` with each of ``texts``."""
        inputs = self.processor(text=texts, images=image, return_tensors="pt", padding=True,
                                truncation=True).to(self.device)
        return float(self.model(**inputs).logits_per_image.float().mean())

    @torch.no_grad()
    def image_features(self, images: list) -> torch.Tensor:
        """Unit-length image embeddings (N, D) of PIL images (the processor resizes them: bicubic, shortest
        side, centre crop, as open_clip's preprocessing)."""
        pixels = self.processor(images=images, return_tensors="pt")["pixel_values"].to(self.device)
        return _unit(self.model.get_image_features(pixel_values=pixels).float())

    @torch.no_grad()
    def text_features(self, texts: list[str]) -> torch.Tensor:
        """Unit-length text embeddings (N, D)."""
        inputs = self.processor(text=texts, return_tensors="pt", padding=True, truncation=True).to(self.device)
        return _unit(self.model.get_text_features(**inputs).float())

    def instance_score(self, image, box, description: str) -> float:
        """Local CLIP score of one instance: the crop of the normalised ``box``, resized (bilinear) back to
        the image's size, with ``description`` in each of the 80 ImageNet templates."""
        crop = image.crop(pixel_crop_box(box, image.width, image.height)).resize(image.size, Image.BILINEAR)
        return self.score(crop, filled_templates(description))


class Judge:
    """Qwen2.5-VL through its tokenizer (with the folder's chat template) and image processor; the image
    placeholder is expanded to the image's token count as the Qwen processor does (so no video processor,
    and no torchvision, is needed)."""

    IMAGE_TOKEN = "<|image_pad|>"

    def __init__(self, path, device):
        from transformers import AutoImageProcessor, AutoTokenizer, Qwen2_5_VLForConditionalGeneration

        path = _folder(path, "Qwen2.5-VL")
        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.image_processor = AutoImageProcessor.from_pretrained(path)
        dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
        self.model = Qwen2_5_VLForConditionalGeneration.from_pretrained(path, torch_dtype=dtype).to(device).eval()

    def _processable(self, image):
        """The crop as the image processor takes it: before transformers 4.56 (ComfyUI's floor is 4.50.3) it
        refuses a side under one merged patch (28 px) instead of scaling it up, so such a crop is scaled up here
        (bicubic, aspect kept) to that side; newer versions get the crop unchanged and scale it themselves."""
        import transformers
        from packaging.version import Version

        side = self.image_processor.patch_size * self.image_processor.merge_size
        if min(image.size) >= side or Version(transformers.__version__) >= Version("4.56"):
            return image
        scale = side / min(image.size)
        return image.resize((max(side, round(image.width * scale)), max(side, round(image.height * scale))),
                            Image.BICUBIC)

    @torch.no_grad()
    def agrees(self, image, description: str, max_new_tokens: int = 16) -> bool:
        messages = [{"role": "user", "content": [{"type": "image"},
                                                 {"type": "text", "text": JUDGE_QUESTION.format(description)}]}]
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        pixels = self.image_processor(images=[self._processable(image)], return_tensors="pt")
        n_tokens = int(pixels["image_grid_thw"][0].prod()) // self.image_processor.merge_size ** 2
        text = text.replace(self.IMAGE_TOKEN, self.IMAGE_TOKEN * n_tokens, 1)
        inputs = {**self.tokenizer([text], return_tensors="pt"), **pixels}
        inputs = {k: v.to(self.device) for k, v in inputs.items()}
        ids = self.model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
        answer = self.tokenizer.batch_decode(ids[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0]
        return "yes" in answer.lower()
