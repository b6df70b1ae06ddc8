"""De-identification at ingest, after the DICOM PS3.15 Annex E basic profile.

Choices (documented in the dataset's DeidentificationMethod and its code sequence):
- PatientName and PatientID become the case pseudonym; every other person name (any PN
  element, at any depth) is removed.
- Every date, time and datetime (DA, DT, TM) is removed: no shifted dates are kept, so no
  interval between studies can be recovered either.
- Every UID is replaced by ``2.25.<int>`` derived by HMAC-SHA256 under the project salt, so
  references stay consistent inside a project and cannot be linked across projects.
  Well-known DICOM UIDs (SOP classes, transfer syntaxes: prefix 1.2.840.10008.) are kept.
- All private tags, overlays (60xx), curves (50xx) and the attributes of the basic profile
  that name people, places, devices or requests are removed. Free text (LO, SH, ST, LT,
  UT, UC, AE, UR) is kept only for an allow-list of technical attributes that the viewer
  and the measurements need (SeriesDescription, sequence and coil names, manufacturer).
- Retain Patient Characteristics Option: PatientSex and PatientAge are kept (ages over 89
  years become 090Y, as HIPAA asks); size and weight are removed.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
from collections.abc import Callable
from typing import Any

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag

# LO holds 64 characters at most; the code sequence below names the options precisely.
METHOD = "spinelabel: PS3.15 basic profile, retain patient characteristics"
# DICOM Controlled Terminology, CID 7050 (De-identification Method).
METHOD_CODES = (
    ("113100", "Basic Application Confidentiality Profile"),
    ("113108", "Retain Patient Characteristics Option"),
)

_DICOM_ROOT = "1.2.840.10008."
_FREE_TEXT_VRS = {"LO", "SH", "ST", "LT", "UT", "UC", "AE", "UR"}
_DATE_VRS = {"DA", "DT", "TM"}
_BULK_VRS = {"OB", "OW", "OF", "OD", "OL", "OV", "UN"}
_BULK_LIMIT = 1024
# PixelData, FloatPixelData, DoubleFloatPixelData: never copied, even temporarily.
_PIXEL_TAGS = {0x7FE00010, 0x7FE00008, 0x7FE00009}

# Free-text attributes that describe the acquisition, not the patient or the site.
_KEEP_TEXT = {
    "SeriesDescription",
    "Manufacturer",
    "ManufacturerModelName",
    "SoftwareVersions",
    "SequenceName",
    "PulseSequenceName",
    "ImagedNucleus",
    "ReceiveCoilName",
    "TransmitCoilName",
    "WindowCenterWidthExplanation",
    "DeidentificationMethod",
    "CodeValue",
    "CodingSchemeDesignator",
    "CodingSchemeVersion",
    "CodeMeaning",
    "ContrastBolusAgent",
    "RescaleType",
    "LossyImageCompressionMethod",
}

# PS3.15 Table E.1-1 attributes removed although their VR alone would not remove them
# (coded strings, numbers and sequences that identify a person, a visit or a device).
_REMOVE = {
    "PatientBirthDate",
    "PatientBirthTime",
    "PatientBirthName",
    "PatientMotherBirthName",
    "PatientAddress",
    "PatientTelephoneNumbers",
    "PatientTelecomInformation",
    "OtherPatientIDs",
    "OtherPatientIDsSequence",
    "OtherPatientNames",
    "IssuerOfPatientID",
    "IssuerOfPatientIDQualifiersSequence",
    "PatientSize",
    "PatientWeight",
    "EthnicGroup",
    "EthnicGroupCodeSequence",
    "Occupation",
    "MilitaryRank",
    "BranchOfService",
    "MedicalRecordLocator",
    "CountryOfResidence",
    "RegionOfResidence",
    "PatientReligiousPreference",
    "AdditionalPatientHistory",
    "PatientComments",
    "PatientInsurancePlanCodeSequence",
    "PatientPrimaryLanguageCodeSequence",
    "ResponsiblePerson",
    "ResponsibleOrganization",
    "PregnancyStatus",
    "SmokingStatus",
    "LastMenstrualDate",
    "MedicalAlerts",
    "Allergies",
    "ReferencedPatientSequence",
    "ReferencedPatientPhotoSequence",
    "AccessionNumber",
    "IssuerOfAccessionNumberSequence",
    "StudyID",
    "InstitutionName",
    "InstitutionAddress",
    "InstitutionalDepartmentName",
    "InstitutionCodeSequence",
    "InstitutionalDepartmentTypeCodeSequence",
    "ReferringPhysicianName",
    "ReferringPhysicianAddress",
    "ReferringPhysicianTelephoneNumbers",
    "ReferringPhysicianIdentificationSequence",
    "ConsultingPhysicianName",
    "ConsultingPhysicianIdentificationSequence",
    "PerformingPhysicianName",
    "PerformingPhysicianIdentificationSequence",
    "PhysiciansOfRecord",
    "PhysiciansOfRecordIdentificationSequence",
    "NameOfPhysiciansReadingStudy",
    "PhysiciansReadingStudyIdentificationSequence",
    "OperatorsName",
    "OperatorIdentificationSequence",
    "RequestingPhysician",
    "RequestingService",
    "RequestAttributesSequence",
    "RequestedProcedureID",
    "ScheduledProcedureStepID",
    "PerformedProcedureStepID",
    "StationName",
    "DeviceSerialNumber",
    "DeviceUID",
    "PlateID",
    "CassetteID",
    "GantryID",
    "DetectorID",
    "AdmissionID",
    "IssuerOfAdmissionIDSequence",
    "ServiceEpisodeID",
    "VisitComments",
    "CurrentPatientLocation",
    "PatientInstitutionResidence",
    "StudyComments",
    "ImageComments",
    "ContentCreatorName",
    "VerifyingObserverName",
    "PersonName",
    "DigitalSignaturesSequence",
    "OriginalAttributesSequence",
    "ModifiedAttributesSequence",
    "ContributingEquipmentSequence",
    "AcquisitionContextSequence",
    "ContentSequence",
    "GraphicAnnotationSequence",
    "IconImageSequence",
    "TextString",
    "TopicTitle",
    "TopicAuthor",
    "TopicKeywords",
    "TopicSubject",
    "Overlays",
    "PixelData",
    "FloatPixelData",
    "DoubleFloatPixelData",
}


def source_key(*, salt: str, identity: str) -> str:
    """Case.source_key: the study's identity under the project salt (64 hex characters)."""
    return hmac.new(salt.encode(), identity.encode(), hashlib.sha256).hexdigest()


def replacement_uid(*, salt: str, original: str) -> str:
    """A UID of the 2.25 (UUID-derived) root that only this project's salt maps back to."""
    digest = hmac.new(salt.encode(), b"uid:" + original.encode(), hashlib.sha256).digest()
    return "2.25." + str(int.from_bytes(digest[:16], "big"))


def _capped_age(value: str) -> str | None:
    text = value.strip().upper()
    if len(text) != 4 or not text[:3].isdigit() or text[3] not in "DWMY":
        return None
    if text[3] == "Y" and int(text[:3]) > 89:
        return "090Y"
    return text


def _clean(dataset: Dataset, uid_of: Callable[[str], str]) -> None:
    """Apply the profile in place, at every nesting depth."""
    for tag in list(dataset.keys()):
        try:
            elem = dataset[tag]
        except Exception:  # a value pydicom cannot parse is dropped, not kept
            del dataset[tag]
            continue
        if _removed(elem):
            del dataset[tag]
            continue
        if elem.keyword == "PatientAge":
            age = _capped_age(str(elem.value or ""))
            if age is None:
                del dataset[tag]
            else:
                elem.value = age
        elif elem.VR == "UI":
            _replace_uids(elem, uid_of)
        elif elem.VR == "SQ":
            for item in elem.value:
                _clean(item, uid_of)


def _removed(elem: DataElement) -> bool:
    tag = BaseTag(elem.tag)
    group = tag.group
    vr = elem.VR
    return bool(
        tag.is_private
        or 0x5000 <= group <= 0x50FF
        or 0x6000 <= group <= 0x60FF
        or elem.keyword in _REMOVE
        or vr in _DATE_VRS
        or vr == "PN"
        or (vr in _FREE_TEXT_VRS and elem.keyword not in _KEEP_TEXT)
        or (vr in _BULK_VRS and _length(elem) > _BULK_LIMIT)
    )


def _length(elem: DataElement) -> int:
    value = elem.value
    return len(value) if isinstance(value, bytes | bytearray) else 0


def _replace_uids(elem: DataElement, uid_of: Callable[[str], str]) -> None:
    values = list(elem.value) if elem.VM > 1 else [elem.value]
    replaced = [
        str(v) if not v or str(v).startswith(_DICOM_ROOT) else uid_of(str(v)) for v in values
    ]
    elem.value = replaced if elem.VM > 1 else replaced[0]


def deidentify(dataset: Dataset, *, salt: str, pseudonym: str | None = None) -> Dataset:
    """Return a de-identified copy of ``dataset``, without pixel data and file meta.

    Without a pseudonym, PatientName and PatientID are left out; ``pseudonymise_header``
    adds them once the case is known.
    """
    clean = Dataset()
    for tag in list(dataset.keys()):
        if tag in _PIXEL_TAGS:
            continue
        try:
            clean[tag] = dataset[tag]
        except Exception:  # noqa: S112 - an unparsable value is dropped, not kept
            continue
    clean = copy.deepcopy(clean)
    _clean(clean, lambda original: replacement_uid(salt=salt, original=original))
    if pseudonym is not None:
        clean.PatientName = pseudonym
        clean.PatientID = pseudonym
    clean.PatientIdentityRemoved = "YES"
    clean.DeidentificationMethod = METHOD
    codes = []
    for value, meaning in METHOD_CODES:
        item = Dataset()
        item.CodeValue = value
        item.CodingSchemeDesignator = "DCM"
        item.CodeMeaning = meaning
        codes.append(item)
    clean.DeidentificationMethodCodeSequence = Sequence(codes)
    return clean


def header_json(dataset: Dataset) -> dict[str, Any]:
    """The de-identified dataset as DICOM JSON; elements that cannot be encoded are dropped."""
    result: dict[str, Any] = dataset.to_json_dict(
        bulk_data_threshold=_BULK_LIMIT,
        bulk_data_element_handler=lambda _elem: "",
        suppress_invalid_tags=True,
    )
    return result


def pseudonymise_header(header: dict[str, Any], *, pseudonym: str) -> dict[str, Any]:
    """Put the case pseudonym into a stored header (it is only known inside the transaction)."""
    header = dict(header)
    header["00100010"] = {"vr": "PN", "Value": [{"Alphabetic": pseudonym}]}
    header["00100020"] = {"vr": "LO", "Value": [pseudonym]}
    return header
